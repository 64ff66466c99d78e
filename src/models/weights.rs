//! Safetensors weights by name: read a file (tensors and metadata), load it into a model's
//! VarStore with a clear error listing missing, unexpected and mis-shaped tensors, and save a
//! VarStore atomically with metadata. `num_batches_tracked` entries, which PyTorch state dicts
//! carry and no computation uses, are ignored.

use crate::error::{Error, Result};
use safetensors::{Dtype, SafeTensors};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use tch::{nn::VarStore, Kind, Tensor};

/// The contents of a safetensors file.
pub struct WeightFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// Tensors in file order, as CPU tensors of the stored dtype.
    pub tensors: Vec<(String, Tensor)>,
    /// The file's `__metadata__` table.
    pub metadata: BTreeMap<String, String>,
}

fn kind_of(dtype: Dtype) -> Option<Kind> {
    Some(match dtype {
        Dtype::F64 => Kind::Double,
        Dtype::F32 => Kind::Float,
        Dtype::F16 => Kind::Half,
        Dtype::BF16 => Kind::BFloat16,
        Dtype::I64 => Kind::Int64,
        Dtype::I32 => Kind::Int,
        Dtype::I16 => Kind::Int16,
        Dtype::I8 => Kind::Int8,
        Dtype::U8 => Kind::Uint8,
        Dtype::BOOL => Kind::Bool,
        _ => return None,
    })
}

fn dtype_of(kind: Kind) -> Option<Dtype> {
    Some(match kind {
        Kind::Double => Dtype::F64,
        Kind::Float => Dtype::F32,
        Kind::Half => Dtype::F16,
        Kind::BFloat16 => Dtype::BF16,
        Kind::Int64 => Dtype::I64,
        Kind::Int => Dtype::I32,
        Kind::Int16 => Dtype::I16,
        Kind::Int8 => Dtype::I8,
        Kind::Uint8 => Dtype::U8,
        Kind::Bool => Dtype::BOOL,
        _ => return None,
    })
}

impl WeightFile {
    /// Reads a safetensors file; a missing, truncated or malformed file is an error naming it.
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let bad = |e: safetensors::SafeTensorError| {
            Error::bad_file(
                path,
                format!("not a valid safetensors file ({e}); re-export or re-download it"),
            )
        };
        let (_, meta) = SafeTensors::read_metadata(&bytes).map_err(bad)?;
        let st = SafeTensors::deserialize(&bytes).map_err(bad)?;
        let mut named: Vec<_> = meta
            .tensors()
            .into_iter()
            .map(|(n, info)| (info.data_offsets.0, n))
            .collect();
        named.sort();
        let mut tensors = Vec::with_capacity(named.len());
        for (_, name) in named {
            let view = st.tensor(&name).map_err(bad)?;
            let kind = kind_of(view.dtype()).ok_or_else(|| {
                Error::bad_file(
                    path,
                    format!("tensor `{name}` has unsupported dtype {:?}", view.dtype()),
                )
            })?;
            let shape: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
            tensors.push((name, Tensor::from_data_size(view.data(), &shape, kind)));
        }
        let metadata = meta
            .metadata()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        Ok(WeightFile {
            path: path.to_path_buf(),
            tensors,
            metadata,
        })
    }

    /// The tensor called `name`, or an error naming the file and the tensor.
    pub fn get(&self, name: &str) -> Result<&Tensor> {
        self.tensors
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t)
            .ok_or_else(|| Error::bad_file(&self.path, format!("tensor `{name}` is missing")))
    }

    /// A metadata value, or an error naming the file and the key.
    pub fn meta(&self, key: &str) -> Result<&str> {
        self.metadata
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| Error::bad_file(&self.path, format!("metadata key `{key}` is missing")))
    }

    /// The tensors whose names start with `prefix`, with the prefix removed.
    pub fn with_prefix(&self, prefix: &str) -> Vec<(String, Tensor)> {
        self.tensors
            .iter()
            .filter_map(|(n, t)| {
                n.strip_prefix(prefix)
                    .map(|s| (s.to_string(), t.shallow_clone()))
            })
            .collect()
    }
}

fn ignored(name: &str) -> bool {
    name.ends_with("num_batches_tracked")
}

/// Copies `tensors` into the variables of `vs` by name, converting to each variable's dtype and
/// device. Every missing, unexpected or mis-shaped tensor is listed in one error.
pub fn load_named(
    vs: &VarStore,
    tensors: &[(String, Tensor)],
    path: &Path,
    model: &str,
) -> Result<()> {
    load_into(&vs.variables(), tensors, path, model)
}

/// [`load_named`] into named variables held elsewhere than in one VarStore (a method's parts in
/// several stores, named as the method names them).
pub fn load_into(
    vars: &HashMap<String, Tensor>,
    tensors: &[(String, Tensor)],
    path: &Path,
    model: &str,
) -> Result<()> {
    let given: HashMap<&str, &Tensor> = tensors
        .iter()
        .filter(|(n, _)| !ignored(n))
        .map(|(n, t)| (n.as_str(), t))
        .collect();
    let mut missing: Vec<_> = vars
        .keys()
        .filter(|k| !given.contains_key(k.as_str()))
        .cloned()
        .collect();
    let mut unexpected: Vec<_> = given
        .keys()
        .filter(|k| !vars.contains_key(**k))
        .map(|k| k.to_string())
        .collect();
    let mut misshaped: Vec<_> = vars
        .iter()
        .filter_map(|(k, v)| {
            let t = given.get(k.as_str())?;
            (t.size() != v.size())
                .then(|| format!("{k}: file {:?}, model {:?}", t.size(), v.size()))
        })
        .collect();
    if !(missing.is_empty() && unexpected.is_empty() && misshaped.is_empty()) {
        missing.sort();
        unexpected.sort();
        misshaped.sort();
        let mut detail = String::new();
        for (title, list) in [
            ("missing", &missing),
            ("unexpected", &unexpected),
            ("mis-shaped", &misshaped),
        ] {
            if !list.is_empty() {
                detail.push_str(&format!(
                    "  {title} ({}): {}\n",
                    list.len(),
                    list.join(", ")
                ));
            }
        }
        detail.push_str("  check the architecture and the number of classes, or convert the file to the official names");
        return Err(Error::WeightMismatch {
            path: path.to_path_buf(),
            model: model.to_string(),
            detail,
        });
    }
    tch::no_grad(|| {
        for (k, v) in vars.iter() {
            let mut v = v.shallow_clone();
            v.copy_(&given[k.as_str()].to_kind(v.kind()).to_device(v.device()));
        }
    });
    Ok(())
}

/// Reads `path` and loads it into `vs` (see [`load_named`]); returns the file's metadata.
pub fn load(vs: &VarStore, path: &Path, model: &str) -> Result<BTreeMap<String, String>> {
    let file = WeightFile::read(path)?;
    load_named(vs, &file.tensors, path, model)?;
    Ok(file.metadata)
}

/// Writes named tensors and metadata to `path` atomically (a temporary file, then a rename).
pub fn save_tensors(
    tensors: &[(String, Tensor)],
    metadata: &BTreeMap<String, String>,
    path: &Path,
) -> Result<()> {
    let mut blobs = Vec::with_capacity(tensors.len());
    for (name, t) in tensors {
        let t = t.detach().to_device(tch::Device::Cpu).contiguous();
        let dtype = dtype_of(t.kind()).ok_or_else(|| {
            Error::Invalid(format!(
                "cannot save tensor `{name}` of kind {:?}",
                t.kind()
            ))
        })?;
        let numel = t.numel();
        let mut bytes = vec![0u8; numel * t.kind().elt_size_in_bytes()];
        t.copy_data_u8(&mut bytes, numel);
        let shape: Vec<usize> = t.size().iter().map(|&d| d as usize).collect();
        blobs.push((name.clone(), dtype, shape, bytes));
    }
    let views: Vec<(String, safetensors::tensor::TensorView)> = blobs
        .iter()
        .map(|(n, d, s, b)| {
            Ok((
                n.clone(),
                safetensors::tensor::TensorView::new(*d, s.clone(), b)
                    .map_err(|e| Error::Invalid(format!("tensor `{n}`: {e}")))?,
            ))
        })
        .collect::<Result<_>>()?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
    let meta: HashMap<String, String> = metadata.clone().into_iter().collect();
    safetensors::serialize_to_file(views, Some(meta), tmp.path())
        .map_err(|e| Error::bad_file(path, format!("cannot write: {e}")))?;
    crate::fsx::persist(tmp, path)
}

/// Saves every variable of `vs` under its path name.
pub fn save(vs: &VarStore, metadata: &BTreeMap<String, String>, path: &Path) -> Result<()> {
    let mut named: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    save_tensors(&named, metadata, path)
}
