//! netsec-server: live capture, detection, storage and alert streaming.
//!
//! Not yet implemented: this crate holds the workspace slot for the server issue.
