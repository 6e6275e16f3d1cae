//! The coord tree: one fixed, user-writable location outside every worktree that holds the ledger,
//! the spool, the grants and the grant key. Owns path resolution (one resolver for every consumer),
//! provisioning, the hash-chained ledger and signed escape grants. It never deploys anything and never
//! reads recipe files.
