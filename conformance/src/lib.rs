//! handset-conformance: helpers shared by the conformance tests.
