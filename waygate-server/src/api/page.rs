//! The list shape of API.md: `{"data": [...], "pagination": {"cursor", "hasMore", "totalCount"}}`.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    /// The entries of this page.
    pub data: Vec<T>,
    /// Where the list goes on.
    pub pagination: Pagination,
}

/// Where a list goes on.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub cursor: Option<String>,
    /// Whether more entries follow.
    pub has_more: bool,
    /// How many entries match in all, when known.
    pub total_count: Option<u64>,
}

impl<T: ToSchema> Page<T> {
    /// A page with its continuation.
    pub fn new(data: Vec<T>, cursor: Option<String>, total_count: Option<u64>) -> Self {
        Self {
            pagination: Pagination {
                has_more: cursor.is_some(),
                cursor,
                total_count,
            },
            data,
        }
    }

    /// A whole list in one page.
    pub fn all(data: Vec<T>) -> Self {
        let total = data.len() as u64;
        Self::new(data, None, Some(total))
    }
}

/// `limit` and `cursor` of a list request.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Entries per page.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The `pagination.cursor` of the previous page.
    pub cursor: Option<String>,
}
