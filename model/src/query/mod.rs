//! List queries: `filter`, `search`, `orderby`, `skip`, `top`.
