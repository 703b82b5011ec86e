#include "swapline_codecs.h"

#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <webp/decode.h>
#include <webp/encode.h>

#define FAIL(...)                               \
  do {                                          \
    snprintf(error, error_size, __VA_ARGS__);   \
    return -1;                                  \
  } while (0)

void sl_free(void *pointer) { free(pointer); }

// ---- PNG (libpng simplified API: converts grey, palette and 16-bit to 8-bit RGB/RGBA) ----

int sl_png_info(const uint8_t *data, size_t size, int *width, int *height, int *has_alpha, char *error,
                size_t error_size) {
  png_image image;
  memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, data, size)) FAIL("%s", image.message);
  *width = (int)image.width;
  *height = (int)image.height;
  *has_alpha = (image.format & PNG_FORMAT_FLAG_ALPHA) != 0;
  png_image_free(&image);
  return 0;
}

int sl_png_decode(const uint8_t *data, size_t size, sl_pixels *out, char *error, size_t error_size) {
  png_image image;
  memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, data, size)) FAIL("%s", image.message);
  int alpha = (image.format & PNG_FORMAT_FLAG_ALPHA) != 0;
  image.format = alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
  size_t bytes = PNG_IMAGE_SIZE(image);
  uint8_t *buffer = malloc(bytes);
  if (buffer == NULL) {
    png_image_free(&image);
    FAIL("out of memory for %u x %u pixels", image.width, image.height);
  }
  if (!png_image_finish_read(&image, NULL, buffer, 0, NULL)) {
    free(buffer);
    FAIL("%s", image.message);
  }
  out->data = buffer;
  out->width = (int)image.width;
  out->height = (int)image.height;
  out->channels = alpha ? 4 : 3;
  return 0;
}

int sl_png_encode(const uint8_t *pixels, int width, int height, int channels, sl_bytes *out, char *error,
                  size_t error_size) {
  png_image image;
  memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = (png_uint_32)width;
  image.height = (png_uint_32)height;
  image.format = channels == 4 ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  if (!png_image_write_get_memory_size(image, size, 0, pixels, 0, NULL)) FAIL("%s", image.message);
  uint8_t *buffer = malloc(size);
  if (buffer == NULL) FAIL("out of memory");
  if (!png_image_write_to_memory(&image, buffer, &size, 0, pixels, 0, NULL)) {
    free(buffer);
    FAIL("%s", image.message);
  }
  out->data = buffer;
  out->size = size;
  return 0;
}

// ---- JPEG (libjpeg-turbo's TurboJPEG API) ----

int sl_jpeg_info(const uint8_t *data, size_t size, int *width, int *height, char *error, size_t error_size) {
  tjhandle handle = tjInitDecompress();
  if (handle == NULL) FAIL("cannot initialise the JPEG decoder");
  int subsampling = 0, colorspace = 0;
  int status = tjDecompressHeader3(handle, data, (unsigned long)size, width, height, &subsampling, &colorspace);
  if (status != 0) {
    snprintf(error, error_size, "%s", tjGetErrorStr2(handle));
    tjDestroy(handle);
    return -1;
  }
  tjDestroy(handle);
  if (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK) FAIL("CMYK JPEG is not supported; convert it to RGB");
  return 0;
}

int sl_jpeg_decode(const uint8_t *data, size_t size, sl_pixels *out, char *error, size_t error_size) {
  int width = 0, height = 0;
  if (sl_jpeg_info(data, size, &width, &height, error, error_size) != 0) return -1;
  tjhandle handle = tjInitDecompress();
  if (handle == NULL) FAIL("cannot initialise the JPEG decoder");
  uint8_t *buffer = malloc((size_t)width * (size_t)height * 3);
  if (buffer == NULL) {
    tjDestroy(handle);
    FAIL("out of memory for %d x %d pixels", width, height);
  }
  // TJFLAG_STOPONWARNING: a truncated file is an error, not a silently grey bottom half.
  int status = tjDecompress2(handle, data, (unsigned long)size, buffer, width, 0, height, TJPF_RGB,
                             TJFLAG_ACCURATEDCT | TJFLAG_STOPONWARNING);
  if (status != 0) {
    snprintf(error, error_size, "%s", tjGetErrorStr2(handle));
    free(buffer);
    tjDestroy(handle);
    return -1;
  }
  tjDestroy(handle);
  out->data = buffer;
  out->width = width;
  out->height = height;
  out->channels = 3;
  return 0;
}

int sl_jpeg_encode(const uint8_t *pixels, int width, int height, int channels, int quality, sl_bytes *out,
                   char *error, size_t error_size) {
  tjhandle handle = tjInitCompress();
  if (handle == NULL) FAIL("cannot initialise the JPEG encoder");
  unsigned char *jpeg = NULL;
  unsigned long jpeg_size = 0;
  int status = tjCompress2(handle, pixels, width, 0, height, channels == 4 ? TJPF_RGBA : TJPF_RGB, &jpeg, &jpeg_size,
                           quality >= 90 ? TJSAMP_444 : TJSAMP_420, quality, TJFLAG_ACCURATEDCT);
  if (status != 0) {
    snprintf(error, error_size, "%s", tjGetErrorStr2(handle));
    tjDestroy(handle);
    return -1;
  }
  tjDestroy(handle);
  // Hand the caller malloc'd memory so one sl_free fits every codec.
  out->data = malloc(jpeg_size);
  if (out->data == NULL) {
    tjFree(jpeg);
    FAIL("out of memory");
  }
  memcpy(out->data, jpeg, jpeg_size);
  out->size = jpeg_size;
  tjFree(jpeg);
  return 0;
}

// ---- WebP ----

int sl_webp_info(const uint8_t *data, size_t size, int *width, int *height, int *has_alpha, char *error,
                 size_t error_size) {
  WebPBitstreamFeatures features;
  if (WebPGetFeatures(data, size, &features) != VP8_STATUS_OK) FAIL("invalid or truncated WebP data");
  *width = features.width;
  *height = features.height;
  *has_alpha = features.has_alpha;
  return 0;
}

int sl_webp_decode(const uint8_t *data, size_t size, sl_pixels *out, char *error, size_t error_size) {
  int width = 0, height = 0, alpha = 0;
  if (sl_webp_info(data, size, &width, &height, &alpha, error, error_size) != 0) return -1;
  uint8_t *decoded = alpha ? WebPDecodeRGBA(data, size, &width, &height) : WebPDecodeRGB(data, size, &width, &height);
  if (decoded == NULL) FAIL("invalid or truncated WebP data");
  size_t bytes = (size_t)width * (size_t)height * (alpha ? 4 : 3);
  out->data = malloc(bytes);
  if (out->data == NULL) {
    WebPFree(decoded);
    FAIL("out of memory");
  }
  memcpy(out->data, decoded, bytes);
  WebPFree(decoded);
  out->width = width;
  out->height = height;
  out->channels = alpha ? 4 : 3;
  return 0;
}

int sl_webp_encode(const uint8_t *pixels, int width, int height, int channels, int quality, sl_bytes *out,
                   char *error, size_t error_size) {
  uint8_t *encoded = NULL;
  size_t size;
  int stride = width * channels;
  if (quality >= 100) {
    size = channels == 4 ? WebPEncodeLosslessRGBA(pixels, width, height, stride, &encoded)
                         : WebPEncodeLosslessRGB(pixels, width, height, stride, &encoded);
  } else {
    size = channels == 4 ? WebPEncodeRGBA(pixels, width, height, stride, (float)quality, &encoded)
                         : WebPEncodeRGB(pixels, width, height, stride, (float)quality, &encoded);
  }
  if (size == 0 || encoded == NULL) FAIL("WebP encoding failed (%d x %d)", width, height);
  out->data = malloc(size);
  if (out->data == NULL) {
    WebPFree(encoded);
    FAIL("out of memory");
  }
  memcpy(out->data, encoded, size);
  out->size = size;
  WebPFree(encoded);
  return 0;
}
