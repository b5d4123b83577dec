//! GB 11643 ID numbers and GB 32100 credit codes (being built)
