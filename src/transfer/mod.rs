//! Transfer training and its checks: the meta-learning machinery (`meta`), the methods as loss
//! terms (`methods`), and `conformance`, which runs the float64 reference cases produced by the
//! official L2T-ww code and reports relative errors.

pub mod conformance;
pub mod meta;
pub mod methods;
