//! Where tensors live and in which precision: `--device auto|cpu|cuda:N`, the CPU thread budget,
//! and float32 (default) or float64.
use crate::error::{Error, Result};
use std::str::FromStr;
use tch::{Device, Kind};

/// The device a user asked for, before it is resolved against the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    /// CUDA device 0 when one is present, else the CPU.
    #[default]
    Auto,
    /// The CPU.
    Cpu,
    /// CUDA device N.
    Cuda(usize),
}

impl FromStr for DeviceChoice {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(DeviceChoice::Auto),
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" => Ok(DeviceChoice::Cuda(0)),
            _ => match s.strip_prefix("cuda:").map(str::parse::<usize>) {
                Some(Ok(n)) => Ok(DeviceChoice::Cuda(n)),
                _ => Err(Error::Invalid(format!(
                    "unknown device `{s}`: use auto, cpu, cuda or cuda:N"
                ))),
            },
        }
    }
}

impl DeviceChoice {
    /// The concrete device; asking for a CUDA device that is not there is an error.
    pub fn resolve(self) -> Result<Device> {
        match self {
            DeviceChoice::Auto => Ok(Device::cuda_if_available()),
            DeviceChoice::Cpu => Ok(Device::Cpu),
            DeviceChoice::Cuda(n) => {
                let count = tch::Cuda::device_count() as usize;
                if n < count {
                    Ok(Device::Cuda(n))
                } else {
                    Err(Error::Invalid(format!(
                        "device cuda:{n} requested but this machine has {count} CUDA device(s); \
                         use --device cpu or --device auto"
                    )))
                }
            }
        }
    }
}

/// Floating-point precision of parameters and activations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// float32, the default for training.
    #[default]
    F32,
    /// float64, for conformance against the reference tensors.
    F64,
}

impl FromStr for Precision {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "f32" | "float32" | "float" => Ok(Precision::F32),
            "f64" | "float64" | "double" => Ok(Precision::F64),
            _ => Err(Error::Invalid(format!(
                "unknown precision `{s}`: use f32 or f64"
            ))),
        }
    }
}

impl Precision {
    /// The tch kind of this precision.
    pub fn kind(self) -> Kind {
        match self {
            Precision::F32 => Kind::Float,
            Precision::F64 => Kind::Double,
        }
    }
}

/// Sets libtorch's intra-op CPU thread count; 0 keeps libtorch's default.
pub fn set_threads(threads: usize) {
    if threads > 0 {
        tch::set_num_threads(threads as i32);
        tch::set_num_interop_threads(1);
    }
}

/// A short description of the device for logs and result records.
pub fn describe(device: Device) -> String {
    match device {
        Device::Cpu => format!("cpu ({} threads)", tch::get_num_threads()),
        Device::Cuda(n) => format!("cuda:{n}"),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_parse_and_bad_ones_are_rejected() {
        assert_eq!("auto".parse::<DeviceChoice>().unwrap(), DeviceChoice::Auto);
        assert_eq!("cpu".parse::<DeviceChoice>().unwrap(), DeviceChoice::Cpu);
        assert_eq!(
            "cuda:3".parse::<DeviceChoice>().unwrap(),
            DeviceChoice::Cuda(3)
        );
        assert!("gpu".parse::<DeviceChoice>().is_err());
        assert!("cuda:x".parse::<DeviceChoice>().is_err());
    }

    #[test]
    fn a_missing_cuda_device_is_an_error_not_a_silent_cpu() {
        let n = tch::Cuda::device_count() as usize;
        assert!(DeviceChoice::Cuda(n).resolve().is_err());
    }
}
