// Thin C wrappers over Debian's libpng (simplified API), libturbojpeg and libwebp.
// They keep libpng's longjmp-based error handling inside C and report failures as strings.
#ifndef SWAPLINE_CODECS_H
#define SWAPLINE_CODECS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Pixels decoded by a codec, owned by C; release with sl_free.
typedef struct sl_pixels {
  uint8_t *data;
  int width;
  int height;
  int channels;  // 3 (RGB) or 4 (RGBA)
} sl_pixels;

/// Encoded bytes owned by C; release with sl_free.
typedef struct sl_bytes {
  uint8_t *data;
  size_t size;
} sl_bytes;

/// Reads only the header. Returns 0 on success.
int sl_png_info(const uint8_t *data, size_t size, int *width, int *height, int *has_alpha, char *error, size_t error_size);
int sl_jpeg_info(const uint8_t *data, size_t size, int *width, int *height, char *error, size_t error_size);
int sl_webp_info(const uint8_t *data, size_t size, int *width, int *height, int *has_alpha, char *error, size_t error_size);

/// Decodes to 8-bit RGB (or RGBA when the image has alpha). Returns 0 on success.
int sl_png_decode(const uint8_t *data, size_t size, sl_pixels *out, char *error, size_t error_size);
int sl_jpeg_decode(const uint8_t *data, size_t size, sl_pixels *out, char *error, size_t error_size);
int sl_webp_decode(const uint8_t *data, size_t size, sl_pixels *out, char *error, size_t error_size);

/// Encodes interleaved 8-bit RGB/RGBA. quality 0-100 (JPEG, WebP; WebP 100 = lossless).
int sl_png_encode(const uint8_t *pixels, int width, int height, int channels, sl_bytes *out, char *error, size_t error_size);
int sl_jpeg_encode(const uint8_t *pixels, int width, int height, int channels, int quality, sl_bytes *out, char *error,
                   size_t error_size);
int sl_webp_encode(const uint8_t *pixels, int width, int height, int channels, int quality, sl_bytes *out, char *error,
                   size_t error_size);

void sl_free(void *pointer);

#ifdef __cplusplus
}
#endif

#endif
