//! Chinese name normalisation and matching (being built)
