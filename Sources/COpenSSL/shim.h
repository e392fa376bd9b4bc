#ifndef TRIGGER_EMAIL_COPENSSL_SHIM_H
#define TRIGGER_EMAIL_COPENSSL_SHIM_H

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <openssl/rand.h>

// These OpenSSL calls are macros over SSL_ctrl/SSL_CTX_ctrl, which Swift cannot import, so each
// gets a real function here.

static inline long copenssl_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}

static inline long copenssl_set_min_proto_version(SSL_CTX *context, int version) {
    return SSL_CTX_set_min_proto_version(context, version);
}

static inline long copenssl_set_mode(SSL *ssl, long mode) {
    return SSL_set_mode(ssl, mode);
}

#endif
