//! Custom resource definitions (group `quayconfig.io`, version `v1alpha1`).
