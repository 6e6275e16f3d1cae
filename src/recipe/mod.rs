//! Recipes as git repositories: sources (name, URL, path), private per-run checkouts, `head_ref`,
//! and the previous release. It never deploys and never reads test specs.
