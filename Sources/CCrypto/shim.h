// The low-level SHA-256 functions run straight on the CPU's SHA extensions. OpenSSL 3's
// one-shot SHA256() looks up a provider on every call, which costs more than hashing a small
// record, so the chain digest uses these (deprecated in name only, still maintained).
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>

/// SHA-256 of `length` bytes at `data` into `digest` (32 bytes).
static inline void tally_sha256(const void *data, size_t length, unsigned char *digest) {
    SHA256_CTX context;
    SHA256_Init(&context);
    SHA256_Update(&context, data, length);
    SHA256_Final(digest, &context);
}
