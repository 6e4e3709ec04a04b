//! TLS parser (in progress).
