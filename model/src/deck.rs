//! A rate deck's import as its dry run previews it and its commit reports
//! it: how many of the file's rates are new, changed or unchanged, how many
//! of the tariff's rates a replacing import removes, and the first lines of
//! each. The server answers it; the portal reads it.

use serde::{Deserialize, Serialize};

use crate::money::Money;

crate::wire_enum! {
    /// What an import does with the rates the file does not name.
    #[derive(Default)]
    pub enum ImportMode {
        /// Keeps them: the file's rates are added or changed, the others stay.
        #[default]
        Merge = "merge",
        /// Removes them: afterwards the tariff holds the file's rates only.
        Replace = "replace",
    }
}

/// How many lines of each kind a report lists.
pub const PREVIEW_LINES: usize = 10;

/// What an import did, or would do on a dry run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeckReport {
    pub mode: ImportMode,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// The file's rates: new, changed and unchanged.
    pub imported: u64,
    /// Rates of the file whose prefix the tariff does not have.
    pub new: u64,
    /// Rates of the file that change a rate of the tariff.
    pub changed: u64,
    /// Rates of the file the tariff already has as they are.
    pub unchanged: u64,
    /// Rates of the tariff the file does not name, removed in replace mode.
    pub removed: u64,
    /// The first lines of each kind.
    pub preview: DeckPreview,
}

/// The first [`PREVIEW_LINES`] rates of each kind, in the file's order
/// (removed ones in the tariff's).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeckPreview {
    pub new: Vec<DeckRate>,
    pub changed: Vec<DeckChange>,
    pub unchanged: Vec<DeckRate>,
    pub removed: Vec<DeckRate>,
}

/// A rate of a report: its line in the file (none for a removed rate), its
/// prefix, prices and description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeckRate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    pub prefix: String,
    pub price_1: Money,
    pub price_n: Money,
    pub description: String,
}

/// A rate the file changes: its line, its prefix and what changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeckChange {
    pub line: u64,
    pub prefix: String,
    pub changes: Vec<FieldChange>,
}

/// One field of a changed rate, before and after, as the export writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub old: String,
    pub new: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WireEnum;

    #[test]
    fn modes_read_their_wire_names() {
        assert_eq!("replace".parse::<ImportMode>(), Ok(ImportMode::Replace));
        assert_eq!(ImportMode::default().wire(), "merge");
        assert!("REPLACE".parse::<ImportMode>().is_err());
    }
}
