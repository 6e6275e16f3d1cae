//! Test specs (YAML) and recipe metadata (`recipe.yaml`): parsed string-in, typed-out, with file,
//! line and column on every error. Names *what* to check; never runs anything.
