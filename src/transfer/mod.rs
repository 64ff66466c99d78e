//! Transfer training and its checks. For now: `conformance`, which runs the float64 reference
//! cases produced by the official L2T-ww code and reports relative errors.

pub mod conformance;
