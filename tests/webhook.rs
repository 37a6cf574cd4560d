//! Webhook sink end to end (filled in below).
