//! handset-sim: a deterministic network simulator for handset phones.
