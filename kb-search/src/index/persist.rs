//! On-disk form of a tenant index, one folder per tenant:
//! `meta.json` (chunks, slots, model, store feed position), `vectors.bin` (little-endian f32, in `meta` order) and
//! the hnsw_rs dump `graph.hnsw.graph` / `graph.hnsw.data`. A save writes a fresh folder
//! and swaps it in by rename, so a crash leaves the old or the new index, never a mix.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::graph::VectorIndex;
use super::tenant::{ChunkRecord, SearchOptions, TenantIndex};
use crate::error::KbError;

const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Meta {
    format: u32,
    model_id: String,
    /// The store feed position the index reflects; absent in indexes written before the
    /// index followed the store, which are not trusted (see [`load`]).
    #[serde(default)]
    position: Option<u64>,
    dims: usize,
    next_slot: u64,
    graph_points: usize,
    graph_basename: Option<String>,
    chunks: Vec<(u64, ChunkRecord)>,
}

fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir
        .file_name()
        .map(std::ffi::OsStr::to_os_string)
        .unwrap_or_default();
    name.push(suffix);
    dir.with_file_name(name)
}

/// Writes `index` to `dir`, replacing what was there.
pub(crate) fn save(dir: &Path, index: &TenantIndex) -> Result<(), KbError> {
    let tmp = sibling(dir, ".tmp");
    let old = sibling(dir, ".old");
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| KbError::io(&tmp, e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| KbError::io(&tmp, e))?;

    let graph_basename = index.vectors.dump_graph(&tmp, "graph")?;
    let dims = index.vectors.dims();
    let mut vectors = Vec::with_capacity(index.chunks.len() * dims * 4);
    let mut chunks = Vec::with_capacity(index.chunks.len());
    for (slot, record) in &index.chunks {
        let v = index
            .vectors
            .vector(*slot)
            .ok_or_else(|| KbError::Inconsistent {
                path: dir.to_path_buf(),
                message: format!("chunk slot {slot} has no vector"),
            })?;
        for x in v {
            vectors.extend_from_slice(&x.to_le_bytes());
        }
        chunks.push((*slot, record.clone()));
    }
    let meta = Meta {
        format: FORMAT,
        model_id: index.model_id.clone(),
        position: Some(index.position),
        dims,
        next_slot: index.next_slot,
        graph_points: index.vectors.graph_points(),
        graph_basename,
        chunks,
    };
    let meta_path = tmp.join("meta.json");
    let json = serde_json::to_vec(&meta).map_err(|source| KbError::Metadata {
        path: meta_path.clone(),
        source,
    })?;
    std::fs::write(&meta_path, json).map_err(|e| KbError::io(&meta_path, e))?;
    let vec_path = tmp.join("vectors.bin");
    std::fs::write(&vec_path, vectors).map_err(|e| KbError::io(&vec_path, e))?;

    if dir.exists() {
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(|e| KbError::io(&old, e))?;
        }
        std::fs::rename(dir, &old).map_err(|e| KbError::io(dir, e))?;
    }
    std::fs::rename(&tmp, dir).map_err(|e| KbError::io(dir, e))?;
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(|e| KbError::io(&old, e))?;
    }
    Ok(())
}

/// Reads the index in `dir`; `None` when there is none, or when it was written before the
/// index followed the store's feed (no position): it may hold chunks of articles deleted
/// since, which no feed change would remove, so it is rebuilt from the feed instead.
pub(crate) fn load(dir: &Path, options: SearchOptions) -> Result<Option<TenantIndex>, KbError> {
    let old = sibling(dir, ".old");
    if !dir.exists() && old.exists() {
        // A save died between its two renames: the previous index is complete.
        std::fs::rename(&old, dir).map_err(|e| KbError::io(dir, e))?;
    }
    let meta_path = dir.join("meta.json");
    let bytes = match std::fs::read(&meta_path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(KbError::io(&meta_path, e)),
    };
    let meta: Meta = serde_json::from_slice(&bytes).map_err(|source| KbError::Metadata {
        path: meta_path.clone(),
        source,
    })?;
    let inconsistent = |message: String| KbError::Inconsistent {
        path: dir.to_path_buf(),
        message,
    };
    if meta.format != FORMAT {
        return Err(inconsistent(format!("unknown format {}", meta.format)));
    }
    let Some(position) = meta.position else {
        tracing::warn!(dir = %dir.display(), "index without a store feed position (written by an older version); starting empty, rebuilt from the store's feed");
        return Ok(None);
    };
    let vec_path = dir.join("vectors.bin");
    let raw = std::fs::read(&vec_path).map_err(|e| KbError::io(&vec_path, e))?;
    if meta.dims == 0 || raw.len() != meta.chunks.len() * meta.dims * 4 {
        return Err(inconsistent(format!(
            "vectors.bin holds {} bytes for {} chunks of {} dimensions",
            raw.len(),
            meta.chunks.len(),
            meta.dims
        )));
    }
    let mut vectors = HashMap::with_capacity(meta.chunks.len());
    let mut chunks = BTreeMap::new();
    for ((slot, record), bytes) in meta.chunks.into_iter().zip(raw.chunks_exact(meta.dims * 4)) {
        if slot >= meta.next_slot {
            return Err(inconsistent(format!(
                "slot {slot} is not below next_slot {}",
                meta.next_slot
            )));
        }
        let v: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        vectors.insert(slot, v);
        chunks.insert(slot, record);
    }
    let graph = meta
        .graph_basename
        .as_deref()
        .map(|b| (dir, b, meta.graph_points));
    let index = VectorIndex::restore(meta.dims, options.hnsw, vectors, graph)?;
    Ok(Some(TenantIndex::from_parts(
        meta.model_id,
        position,
        meta.next_slot,
        chunks,
        index,
        options,
    )))
}
