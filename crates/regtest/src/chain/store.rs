//! On-disk chain: `blocks.dat` (length-prefixed consensus-encoded blocks, appended as they
//! are mined, genesis excluded) and `mempool.dat` (the mempool, rewritten on flush).

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use elements::encode::{deserialize, serialize};
use elements::{Block, BlockHash, Transaction};

use super::ChainError;

/// File names inside the chain directory.
const BLOCKS_FILE: &str = "blocks.dat";
const MEMPOOL_FILE: &str = "mempool.dat";
const GENESIS_FILE: &str = "genesis";

/// Append-only block storage of one chain directory.
#[derive(Debug)]
pub(super) struct BlockStore {
    blocks: BufWriter<File>,
    blocks_path: PathBuf,
    mempool_path: PathBuf,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ChainError + '_ {
    move |source| ChainError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn read_records(path: &Path) -> Result<Vec<Vec<u8>>, ChainError> {
    crate::records::read(path).map_err(io_err(path))
}

impl BlockStore {
    /// Opens (creating if needed) `dir`, checks it belongs to `genesis`, and returns the stored
    /// blocks after genesis and the stored mempool.
    pub(super) fn open(
        dir: &Path,
        genesis: BlockHash,
    ) -> Result<(BlockStore, Vec<Block>, Vec<Transaction>), ChainError> {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let genesis_path = dir.join(GENESIS_FILE);
        match fs::read_to_string(&genesis_path) {
            Ok(stored) if stored.trim() == genesis.to_string() => {}
            Ok(stored) => {
                return Err(ChainError::Corrupt {
                    path: genesis_path,
                    reason: format!(
                        "data directory holds chain with genesis {}, expected {genesis}",
                        stored.trim()
                    ),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                fs::write(&genesis_path, genesis.to_string()).map_err(io_err(&genesis_path))?;
            }
            Err(e) => return Err(io_err(&genesis_path)(e)),
        }
        let blocks_path = dir.join(BLOCKS_FILE);
        let mempool_path = dir.join(MEMPOOL_FILE);
        let blocks = read_records(&blocks_path)?
            .iter()
            .map(|bytes| {
                deserialize::<Block>(bytes).map_err(|e| ChainError::Corrupt {
                    path: blocks_path.clone(),
                    reason: format!("undecodable block: {e}"),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mempool = read_records(&mempool_path)?
            .iter()
            .filter_map(|bytes| deserialize::<Transaction>(bytes).ok())
            .collect();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&blocks_path)
            .map_err(io_err(&blocks_path))?;
        Ok((
            BlockStore {
                blocks: BufWriter::new(file),
                blocks_path,
                mempool_path,
            },
            blocks,
            mempool,
        ))
    }

    /// Appends a newly connected block and flushes it to the OS.
    pub(super) fn append_block(&mut self, block: &Block) -> Result<(), ChainError> {
        let path = self.blocks_path.clone();
        self.blocks
            .write_all(&crate::records::encode(&serialize(block)))
            .map_err(io_err(&path))?;
        self.blocks.flush().map_err(io_err(&path))
    }

    /// Replaces `blocks.dat` with `blocks` (after blocks were disconnected).
    pub(super) fn rewrite_blocks(&mut self, blocks: &[Block]) -> Result<(), ChainError> {
        let tmp = self.blocks_path.with_extension("tmp");
        let mut data = Vec::new();
        for block in blocks {
            data.extend_from_slice(&crate::records::encode(&serialize(block)));
        }
        fs::write(&tmp, data).map_err(io_err(&tmp))?;
        fs::rename(&tmp, &self.blocks_path).map_err(io_err(&self.blocks_path))?;
        let file = OpenOptions::new()
            .append(true)
            .open(&self.blocks_path)
            .map_err(io_err(&self.blocks_path))?;
        self.blocks = BufWriter::new(file);
        Ok(())
    }

    /// Replaces `mempool.dat` with `txs`.
    pub(super) fn write_mempool(&mut self, txs: &[&Transaction]) -> Result<(), ChainError> {
        let tmp = self.mempool_path.with_extension("tmp");
        let mut data = Vec::new();
        for tx in txs {
            data.extend_from_slice(&crate::records::encode(&serialize(*tx)));
        }
        fs::write(&tmp, data).map_err(io_err(&tmp))?;
        fs::rename(&tmp, &self.mempool_path).map_err(io_err(&self.mempool_path))
    }
}
