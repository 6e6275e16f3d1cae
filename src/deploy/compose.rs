//! compose deployer part: being built.
