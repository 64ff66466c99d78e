//! Where tensors live and in which precision: `--device auto|cpu|cuda:N`, the CPU thread budget,
//! float32 (default) or float64, and the [`ExecContext`] a pipeline stage runs with (resolved
//! once by the command that starts the run, carried by the job).
use crate::error::{Error, Result};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
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
    /// `f32` or `f64`.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
        }
    }

    /// The tch kind of this precision.
    pub fn kind(self) -> Kind {
        match self {
            Precision::F32 => Kind::Float,
            Precision::F64 => Kind::Double,
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Precision {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Precision {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A concrete device as text: `cpu` or `cuda:N`.
pub fn device_name(d: Device) -> String {
    match d {
        Device::Cuda(n) => format!("cuda:{n}"),
        _ => "cpu".to_string(),
    }
}

/// A concrete device from its text (`cpu`, `cuda`, `cuda:N`); `auto` is not concrete.
pub fn parse_device(s: &str) -> Result<Device> {
    match s.parse::<DeviceChoice>()? {
        DeviceChoice::Cpu => Ok(Device::Cpu),
        DeviceChoice::Cuda(n) => Ok(Device::Cuda(n)),
        DeviceChoice::Auto => Err(Error::Invalid(
            "`auto` is not a device; resolve it first".into(),
        )),
    }
}

/// The cores this process may use (what `--threads 0` means for a pipeline).
pub fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// What a stage runs with: the device (concrete: resolved once, by the command that starts the
/// run, or chosen by the executor for a job), the precision and the CPU threads it may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecContext {
    /// `cpu` or `cuda:N`.
    #[serde(serialize_with = "ser_device", deserialize_with = "de_device")]
    pub device: Device,
    /// The precision of stages that compute with networks, unless a stage sets its own.
    pub precision: Precision,
    /// CPU threads (libtorch's and the loader's).
    pub threads: usize,
}

fn ser_device<S: Serializer>(d: &Device, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&device_name(*d))
}

fn de_device<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Device, D::Error> {
    let s = String::deserialize(d)?;
    parse_device(&s).map_err(serde::de::Error::custom)
}

impl ExecContext {
    /// This context with another device and thread count (what an executor gives one job).
    pub fn for_job(self, device: Device, threads: usize) -> ExecContext {
        ExecContext {
            device,
            threads: threads.max(1),
            ..self
        }
    }

    /// Applies the context to this process (libtorch's threads) and checks that its device is
    /// here: a CUDA device that is not is an error, never a silent fall-back.
    pub fn apply(&self) -> Result<()> {
        set_threads(self.threads);
        if let Device::Cuda(n) = self.device {
            DeviceChoice::Cuda(n).resolve()?;
        }
        Ok(())
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
    fn an_exec_context_round_trips_through_json_with_a_concrete_device() {
        let c = ExecContext {
            device: Device::Cuda(1),
            precision: Precision::F64,
            threads: 3,
        };
        let text = serde_json::to_string(&c).unwrap();
        assert_eq!(text, r#"{"device":"cuda:1","precision":"f64","threads":3}"#);
        assert_eq!(serde_json::from_str::<ExecContext>(&text).unwrap(), c);
        assert!(parse_device("auto").is_err());
    }

    #[test]
    fn a_missing_cuda_device_is_an_error_not_a_silent_cpu() {
        let n = tch::Cuda::device_count() as usize;
        assert!(DeviceChoice::Cuda(n).resolve().is_err());
    }
}
