//! `#[derive(Action)]` for Waygate (work in progress: being written now).

use proc_macro::TokenStream;

/// Derives `waygate_core::Action`.
#[proc_macro_derive(Action, attributes(action))]
pub fn derive_action(_input: TokenStream) -> TokenStream {
    "compile_error!(\"#[derive(Action)] is not implemented yet\");"
        .parse()
        .expect("valid tokens")
}
