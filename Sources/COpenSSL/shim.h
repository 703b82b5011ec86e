// The system's libcrypto (OpenSSL 3, Debian's libssl-dev) for SHA-256, HMAC-SHA256 (webhook
// signatures) and random bytes (API keys): swift-crypto would compile its own BoringSSL
// (hundreds of C files) into every clean build.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
