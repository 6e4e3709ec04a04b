//! HTTP parser (in progress).
