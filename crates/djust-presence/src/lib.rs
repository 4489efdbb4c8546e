//! Presence engine for djust (being written).
