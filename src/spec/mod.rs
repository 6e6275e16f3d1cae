//! Test specs (YAML) and recipe metadata (`recipe.yaml`): parsed string-in, typed-out, with file,
//! line and column on every error. Names *what* to check; never runs anything.
//!
//! Main types: [`SpecFile`] (one tier's tests), [`Check`] (assertion kinds), [`Step`] (seeding),
//! [`RecipeMeta`]. The tables in `check.rs`, `step.rs`, `file.rs` and `meta.rs` drive both the
//! parser and the generated [`reference`].

mod check;
mod decode;
mod doc;
mod error;
mod file;
mod lint;
mod meta;
pub mod node;
mod source;
mod step;
mod text;
mod tier;

pub use check::{check_names, http_status_accepted, Check, Compare, CHECKS};
pub use decode::{Field, Kind};
pub use doc::reference;
pub use error::{closest, SpecError, SpecErrorKind};
pub use file::{parse_spec, parse_spec_all, SpecFile, TestCase, FILE_FIELDS, TEST_FIELDS};
pub use lint::{lint, lint_set, Warning};
pub use meta::{is_domain_name, parse_meta, parse_meta_all, Readiness, RecipeMeta, META_FIELDS};
pub use source::{check_text, decode as decode_text};
pub use step::{OpOverride, Step, STEPS};
pub use text::{Command, TextMatch};
pub use tier::{Tier, UnknownTier};

#[cfg(test)]
mod tests;
