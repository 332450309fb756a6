//! Request ids: made here for calls that come without one; the gateway and
//! the MCP server make theirs here too (`waygate_core::__workspace`).

/// A fresh request id: a time-ordered (v7) UUID, its random part from the
/// thread-local generator (`Uuid::new_v4` would ask the OS for entropy on
/// every call). Ids that grow with time are appended to the request-log
/// index on `request_id` rather than scattered over it: one index page
/// written per batch instead of one per entry. The time is the real clock's,
/// not the injected one: ids must stay unique and ordered across processes.
pub fn new_request_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let millis = u64::try_from(now.as_millis()).unwrap_or(u64::MAX);
    uuid::Builder::from_unix_timestamp_millis(millis, &rand::random())
        .into_uuid()
        .to_string()
}
