// The system's libcrypto (OpenSSL 3, Debian's libssl-dev) for SHA-256 only: swift-crypto would
// compile its own BoringSSL (hundreds of C files) into every clean build.
#include <openssl/evp.h>
