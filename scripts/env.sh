# Sourced by the scripts: tools cargo-leptos must find on PATH (it would try to download them
# otherwise, which fails here). npm's binaryen, not Debian's: Debian's wasm-opt 108 silently
# breaks release WASM.
export PATH="$PWD/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
