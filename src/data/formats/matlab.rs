//! Just enough of the MATLAB 5 MAT-file format to read a cell array of strings (Stanford Dogs'
//! `train_list.mat` / `test_list.mat`, variable `file_list`): little-endian files, compressed
//! (`miCOMPRESSED`) or plain `miMATRIX` elements, cells holding one-row char arrays.
use crate::error::{Error, Result};
use crate::fsx;
use flate2::read::ZlibDecoder;
use std::io::Read;
use std::path::Path;

const MI_INT8: u32 = 1;
const MI_UINT8: u32 = 2;
const MI_UINT16: u32 = 4;
const MI_MATRIX: u32 = 14;
const MI_COMPRESSED: u32 = 15;
const MI_UTF8: u32 = 16;
const MX_CELL: u8 = 1;
const MX_CHAR: u8 = 4;

/// One data element: its type, its bytes, and where the next element starts.
struct Element<'a> {
    kind: u32,
    data: &'a [u8],
    next: usize,
}

/// Parses the element at `pos` of `buf`; `base` is `buf`'s offset in the file, for errors.
fn element<'a>(path: &Path, buf: &'a [u8], pos: usize, base: u64) -> Result<Element<'a>> {
    let bad = |at: usize, m: &str| {
        Error::format(
            path,
            base + at as u64,
            format!("{m}; the MAT file is truncated or corrupt"),
        )
    };
    let tag = buf
        .get(pos..pos + 8)
        .ok_or_else(|| bad(pos, "file ends inside a data element's tag"))?;
    let word = u32::from_le_bytes(tag[0..4].try_into().unwrap());
    if word >> 16 != 0 {
        // small data element: type and size in the first word, up to 4 bytes of data after it
        let size = (word >> 16) as usize;
        if size > 4 {
            return Err(bad(pos, "small data element larger than 4 bytes"));
        }
        return Ok(Element {
            kind: word & 0xffff,
            data: &tag[4..4 + size],
            next: pos + 8,
        });
    }
    let size = u32::from_le_bytes(tag[4..8].try_into().unwrap()) as usize;
    let data = buf
        .get(pos + 8..pos + 8 + size)
        .ok_or_else(|| bad(pos, &format!("element of {size} bytes runs past the end")))?;
    let padded = if word == MI_COMPRESSED {
        size
    } else {
        size.div_ceil(8) * 8
    };
    Ok(Element {
        kind: word,
        data,
        next: pos + 8 + padded,
    })
}

/// The sub-elements of a matrix: (class, dims, name, position of the first data sub-element).
fn matrix_header(path: &Path, m: &[u8], base: u64) -> Result<(u8, Vec<i32>, String, usize)> {
    let flags = element(path, m, 0, base)?;
    let class = *flags
        .data
        .first()
        .ok_or_else(|| Error::format(path, base, "empty array flags"))?;
    let dims = element(path, m, flags.next, base)?;
    let dims: Vec<i32> = dims
        .data
        .chunks_exact(4)
        .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let name = element(path, m, element(path, m, flags.next, base)?.next, base)?;
    Ok((
        class,
        dims,
        String::from_utf8_lossy(name.data).into_owned(),
        name.next,
    ))
}

/// The string of a one-row char matrix.
fn char_string(path: &Path, m: &[u8], base: u64) -> Result<String> {
    let (class, dims, _, at) = matrix_header(path, m, base)?;
    if class != MX_CHAR || dims.first().copied().unwrap_or(0) > 1 {
        return Err(Error::format(path, base, format!("expected a one-row char array in the cell, found class {class} with dimensions {dims:?}")));
    }
    if at >= m.len() {
        return Ok(String::new());
    }
    let data = element(path, m, at, base)?;
    match data.kind {
        MI_UINT16 => Ok(String::from_utf16_lossy(
            &data
                .data
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect::<Vec<_>>(),
        )),
        MI_UTF8 | MI_UINT8 | MI_INT8 => Ok(String::from_utf8_lossy(data.data).into_owned()),
        k => Err(Error::format(
            path,
            base + at as u64,
            format!("char data of MAT type {k} is not supported"),
        )),
    }
}

/// Reads the cell array of strings called `var` from the MAT file `path`.
pub fn read_cell_strings(path: &Path, var: &str) -> Result<Vec<String>> {
    let bytes = fsx::read(path)?;
    if bytes.len() < 128 || &bytes[126..128] != b"IM" {
        return Err(Error::format(
            path,
            126,
            "not a little-endian MATLAB 5 MAT-file (no `IM` endian indicator)",
        ));
    }
    let mut pos = 128;
    while pos < bytes.len() {
        let el = element(path, &bytes, pos, 0)?;
        let (matrix, base): (Vec<u8>, u64) = match el.kind {
            MI_COMPRESSED => {
                let mut out = Vec::new();
                ZlibDecoder::new(el.data)
                    .read_to_end(&mut out)
                    .map_err(|e| {
                        Error::format(
                            path,
                            pos as u64,
                            format!("corrupt compressed element ({e})"),
                        )
                    })?;
                let inner = element(path, &out, 0, 0)?;
                if inner.kind != MI_MATRIX {
                    pos = el.next;
                    continue;
                }
                (inner.data.to_vec(), pos as u64)
            }
            MI_MATRIX => (el.data.to_vec(), pos as u64 + 8),
            _ => {
                pos = el.next;
                continue;
            }
        };
        let (class, _, name, mut at) = matrix_header(path, &matrix, base)?;
        if name == var {
            if class != MX_CELL {
                return Err(Error::format(
                    path,
                    base,
                    format!("`{var}` is MATLAB class {class}, not a cell array"),
                ));
            }
            let mut out = Vec::new();
            while at < matrix.len() {
                let cell = element(path, &matrix, at, base)?;
                out.push(char_string(path, cell.data, base + at as u64)?);
                at = cell.next;
            }
            return Ok(out);
        }
        pos = el.next;
    }
    Err(Error::bad_file(
        path,
        format!("no variable `{var}` in the MAT file"),
    ))
}
