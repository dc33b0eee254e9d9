//! Choosing the torch device from the run config, and what the linked libtorch offers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tch::{Cuda, Device};
use thiserror::Error;

/// The libtorch version this build links: torch-sys 0.24 refuses any other at build time
/// (unless `LIBTORCH_BYPASS_VERSION_CHECK` is set).
pub const LIBTORCH_VERSION: &str = "2.11.0";

/// Where the learner runs, as written in the run config (`device: Auto`, `device: Cuda(1)`).
///
/// Resolve it once at start-up with [`DeviceChoice::resolve`], so that a bad choice fails
/// before any work starts instead of at the first tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum DeviceChoice {
    /// CUDA device 0 when libtorch sees a GPU, the CPU otherwise. The default.
    #[default]
    Auto,
    /// The CPU, even when a GPU is available.
    Cpu,
    /// The CUDA device with this index (0-based, as ordered by `CUDA_VISIBLE_DEVICES`).
    Cuda(usize),
}

/// Why a [`DeviceChoice`] cannot be used on this machine, or cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// A CUDA device was asked for, but libtorch sees none.
    #[error(
        "CUDA device {index} was requested, but CUDA is not available: no GPU or driver is \
         visible, or the linked libtorch is CPU-only (see docs/libtorch.md); use `Auto` or `Cpu`"
    )]
    CudaUnavailable {
        /// The requested device index.
        index: usize,
    },
    /// The CUDA device index is out of range.
    #[error(
        "CUDA device {index} was requested, but only {count} CUDA device(s) are visible \
         (valid indices: 0..{count})"
    )]
    NoSuchCudaDevice {
        /// The requested device index.
        index: usize,
        /// How many CUDA devices libtorch sees.
        count: usize,
    },
    /// A device name that is not `auto`, `cpu`, `cuda` or `cuda:N`.
    #[error(
        "invalid device {0:?}: expected `Auto`, `Cpu`, `Cuda(N)` (or `auto`, `cpu`, `cuda`, `cuda:N`)"
    )]
    InvalidName(String),
}

impl DeviceChoice {
    /// The torch device to use on this machine.
    ///
    /// `Auto` never fails: it falls back to the CPU. `Cuda(n)` fails when CUDA is unavailable
    /// or `n` is not below the number of visible CUDA devices.
    pub fn resolve(&self) -> Result<Device, DeviceError> {
        let cuda_devices = match self {
            // No need to ask libtorch about CUDA for a CPU run.
            Self::Cpu => 0,
            Self::Auto | Self::Cuda(_) => cuda_device_count(),
        };
        self.resolve_with(cuda_devices)
    }

    /// [`resolve`](Self::resolve) given the number of visible CUDA devices.
    fn resolve_with(self, cuda_devices: usize) -> Result<Device, DeviceError> {
        match self {
            Self::Auto if cuda_devices > 0 => Ok(Device::Cuda(0)),
            Self::Auto | Self::Cpu => Ok(Device::Cpu),
            Self::Cuda(index) if cuda_devices == 0 => Err(DeviceError::CudaUnavailable { index }),
            Self::Cuda(index) if index >= cuda_devices => Err(DeviceError::NoSuchCudaDevice {
                index,
                count: cuda_devices,
            }),
            Self::Cuda(index) => Ok(Device::Cuda(index)),
        }
    }
}

/// `auto`, `cpu` or `cuda:N`, the form [`FromStr`] accepts.
impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auto => f.write_str("auto"),
            Self::Cpu => f.write_str("cpu"),
            Self::Cuda(index) => write!(f, "cuda:{index}"),
        }
    }
}

/// Parses device names case-insensitively, in the RON spelling (`Auto`, `Cpu`, `Cuda(N)`)
/// or the command-line one (`auto`, `cpu`, `cuda` for device 0, `cuda:N`).
impl FromStr for DeviceChoice {
    type Err = DeviceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        match lower.as_str() {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda(0)),
            _ => lower
                .strip_prefix("cuda:")
                .or_else(|| lower.strip_prefix("cuda(")?.strip_suffix(')'))
                .and_then(|index| index.trim().parse().ok())
                .map(Self::Cuda)
                .ok_or_else(|| DeviceError::InvalidName(s.to_owned())),
        }
    }
}

/// What the linked libtorch offers this process: worth logging at start-up and writing into
/// the run directory, since the same binary behaves differently on CPU and GPU machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LibtorchInfo {
    /// The libtorch version linked, [`LIBTORCH_VERSION`].
    pub version: &'static str,
    /// Whether libtorch sees at least one CUDA device.
    pub cuda_available: bool,
    /// How many CUDA devices libtorch sees (0 without CUDA).
    pub cuda_devices: usize,
    /// Threads torch uses for intra-op parallelism on the calling thread.
    pub threads: i32,
}

/// One line, e.g. `libtorch 2.11.0, CUDA: no, 2 torch threads`.
impl fmt::Display for LibtorchInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "libtorch {}, CUDA: ", self.version)?;
        if self.cuda_available {
            write!(f, "{} device(s)", self.cuda_devices)?;
        } else {
            f.write_str("no")?;
        }
        write!(f, ", {} torch thread(s)", self.threads)
    }
}

/// Queries the linked libtorch; cheap enough to call at start-up.
///
/// ```
/// let info = rapt_ppo::libtorch_info();
/// assert_eq!(info.version, "2.11.0");
/// println!("{info}"); // libtorch 2.11.0, CUDA: no, 2 torch thread(s)
/// ```
pub fn libtorch_info() -> LibtorchInfo {
    let cuda_devices = cuda_device_count();
    LibtorchInfo {
        version: LIBTORCH_VERSION,
        cuda_available: cuda_devices > 0,
        cuda_devices,
        threads: tch::get_num_threads(),
    }
}

/// Visible CUDA devices; 0 when libtorch has no CUDA backend.
fn cuda_device_count() -> usize {
    usize::try_from(Cuda::device_count()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_auto() {
        assert_eq!(DeviceChoice::default(), DeviceChoice::Auto);
    }

    #[test]
    fn auto_prefers_the_first_gpu() {
        assert_eq!(DeviceChoice::Auto.resolve_with(0), Ok(Device::Cpu));
        assert_eq!(DeviceChoice::Auto.resolve_with(2), Ok(Device::Cuda(0)));
    }

    #[test]
    fn cpu_is_always_cpu() {
        assert_eq!(DeviceChoice::Cpu.resolve_with(0), Ok(Device::Cpu));
        assert_eq!(DeviceChoice::Cpu.resolve_with(4), Ok(Device::Cpu));
    }

    #[test]
    fn cuda_index_is_checked() {
        assert_eq!(
            DeviceChoice::Cuda(0).resolve_with(0),
            Err(DeviceError::CudaUnavailable { index: 0 })
        );
        assert_eq!(
            DeviceChoice::Cuda(2).resolve_with(2),
            Err(DeviceError::NoSuchCudaDevice { index: 2, count: 2 })
        );
        assert_eq!(DeviceChoice::Cuda(1).resolve_with(2), Ok(Device::Cuda(1)));
    }

    #[test]
    fn resolve_matches_this_machine() {
        let info = libtorch_info();
        if info.cuda_available {
            assert_eq!(DeviceChoice::Auto.resolve(), Ok(Device::Cuda(0)));
            assert_eq!(DeviceChoice::Cuda(0).resolve(), Ok(Device::Cuda(0)));
        } else {
            // The CPU-only libtorch of `make libtorch`, or a machine without a GPU.
            assert_eq!(DeviceChoice::Auto.resolve(), Ok(Device::Cpu));
            let err = DeviceChoice::Cuda(0).resolve().unwrap_err();
            assert_eq!(err, DeviceError::CudaUnavailable { index: 0 });
            assert!(err.to_string().contains("CUDA is not available"), "{err}");
        }
        assert_eq!(DeviceChoice::Cpu.resolve(), Ok(Device::Cpu));
    }

    #[test]
    fn info_reports_the_linked_libtorch() {
        let info = libtorch_info();
        assert_eq!(info.version, "2.11.0");
        assert_eq!(info.cuda_available, info.cuda_devices > 0);
        assert!(info.threads >= 1, "{info:?}");
        assert!(
            info.to_string().starts_with("libtorch 2.11.0, CUDA: "),
            "{info}"
        );
    }

    #[test]
    fn ron_spelling_round_trips() {
        for (text, choice) in [
            ("Auto", DeviceChoice::Auto),
            ("Cpu", DeviceChoice::Cpu),
            ("Cuda(1)", DeviceChoice::Cuda(1)),
        ] {
            assert_eq!(ron::from_str::<DeviceChoice>(text), Ok(choice));
            assert_eq!(ron::to_string(&choice).unwrap(), text);
        }
        assert!(ron::from_str::<DeviceChoice>("Gpu").is_err());
    }

    #[test]
    fn command_line_spelling_round_trips() {
        for choice in [DeviceChoice::Auto, DeviceChoice::Cpu, DeviceChoice::Cuda(3)] {
            assert_eq!(choice.to_string().parse(), Ok(choice));
        }
        assert_eq!(" CUDA ".parse(), Ok(DeviceChoice::Cuda(0)));
        // The RON spelling works on the command line too.
        assert_eq!("Cuda(2)".parse(), Ok(DeviceChoice::Cuda(2)));
        assert_eq!("Cpu".parse(), Ok(DeviceChoice::Cpu));
        for bad in ["gpu", "cuda:", "cuda:-1", "cuda:x", "Cuda(", "Cuda(x)", ""] {
            assert_eq!(
                bad.parse::<DeviceChoice>(),
                Err(DeviceError::InvalidName(bad.to_owned()))
            );
        }
    }
}
