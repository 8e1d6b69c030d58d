//! handset-baremetal: embedded-io transports and a clock for firmware.
#![no_std]
