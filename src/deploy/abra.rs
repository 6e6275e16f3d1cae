//! abra deployer part: being built.
