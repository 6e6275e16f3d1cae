//! stack deployer part: being built.
