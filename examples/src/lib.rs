//! Examples live in `examples/`; run `cargo run -p netsec-examples --example flows -- FILE`.
