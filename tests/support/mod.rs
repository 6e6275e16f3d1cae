//! Shared fixtures for the integration tests. Each capability keeps its helpers in its own file here.
//! Not every test binary uses every helper.
#![allow(dead_code)]

pub mod cli;
pub mod engine;
pub mod recipe_repo;
