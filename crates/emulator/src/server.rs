//! The emulator's HTTP side: authentication exactly as Tencent does it (recomputing
//! TC3 from the request as received, with pgssl's one signer), parameter checks, the
//! actions, the reply envelope, rate limits and injected faults.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::faults::{Damage, Faults};
use super::fleet::{Fleet, SSLConfig, parse_time};
use pgssl_wire::credential::Secret;
use pgssl_wire::models::{
    DescribeDBInstanceAttributeResponse, DescribeDBInstanceSSLConfigResponse,
    DescribeDBInstancesResponse, DescribeReadOnlyGroupsResponse, DescribeRegionsResponse,
    DescribeTasksResponse, ModifyDBInstanceSSLConfigResponse, RegionInfo,
};
use pgssl_wire::sign::{self, RequestParts};
use pgssl_wire::{Action, SSL_REGIONS, VERSION, is_ssl_region};

/// Requests per second per action per SecretId, as Tencent documents.
pub const RATE_LIMIT: usize = 20;
const MAX_SKEW_SECS: i64 = 300;
const MAX_BODY: usize = 10 << 20;
pub const CA_PATH: &str = "/ssl/ca.pem";

/// A key the emulator accepts.
#[derive(Debug, Clone)]
pub struct Key {
    pub secret_id: String,
    pub secret_key: Secret,
    pub token: Option<Secret>,
}

pub type LogFn = Arc<dyn Fn(String) + Send + Sync>;

pub struct Shared {
    pub fleet: Mutex<Fleet>,
    pub keys: Vec<Key>,
    pub faults: Faults,
    pub task_seconds: i64,
    pub ca: Arc<super::ca::CertificateAuthority>,
    pub ca_pem: String,
    pub addr: SocketAddr,
    pub log: Option<LogFn>,
    rate: Mutex<HashMap<(Action, String), VecDeque<Instant>>>,
    pg: Mutex<Option<Arc<super::pg::PgBackend>>>,
    closed: std::sync::atomic::AtomicBool,
}

impl Shared {
    pub fn new(
        fleet: Fleet,
        keys: Vec<Key>,
        faults: Faults,
        task_seconds: i64,
        ca: Arc<super::ca::CertificateAuthority>,
        addr: SocketAddr,
        log: Option<LogFn>,
    ) -> Shared {
        Shared {
            fleet: Mutex::new(fleet),
            keys,
            faults,
            task_seconds,
            ca_pem: ca.cert_pem(),
            ca,
            addr,
            log,
            rate: Mutex::new(HashMap::new()),
            pg: Mutex::new(None),
            closed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Stop whatever the emulator started besides itself (the PostgreSQL stand-in).
    pub fn close(&self) {
        self.closed.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(pg) = self.pg.lock().ok().and_then(|mut g| g.take()) {
            pg.server.stop();
        }
    }

    /// The PostgreSQL server standing in for one instance, once it runs.
    pub fn pg(&self) -> Option<Arc<super::pg::PgBackend>> {
        self.pg.lock().ok().and_then(|g| g.clone())
    }

    /// Attach the stand-in; if the emulator closed meanwhile, stop it instead.
    pub fn set_pg(&self, backend: super::pg::PgBackend) {
        if self.closed.load(std::sync::atomic::Ordering::SeqCst) {
            backend.server.stop();
            return;
        }
        if let Ok(mut g) = self.pg.lock() {
            *g = Some(Arc::new(backend));
        }
    }

    /// The emulator's clock, with the injected offset.
    fn now(&self) -> i64 {
        pgssl_wire::clock::unix_now().saturating_add(self.faults.args.clock_offset)
    }

    fn ca_url(&self) -> String {
        format!("http://{}{CA_PATH}", self.addr)
    }

    pub fn fleet(&self) -> std::sync::MutexGuard<'_, Fleet> {
        match self.fleet.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// True when this request goes over the per-second budget.
    fn over_rate(&self, action: Action, secret_id: &str) -> bool {
        let mut rate = match self.rate.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let now = Instant::now();
        let window = rate.entry((action, secret_id.to_string())).or_default();
        while window
            .front()
            .is_some_and(|t| now.duration_since(*t).as_millis() >= 1000)
        {
            window.pop_front();
        }
        if window.len() >= RATE_LIMIT {
            return true;
        }
        window.push_back(now);
        false
    }
}

/// An API error reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fail {
    pub code: String,
    pub message: String,
}

fn fail(code: &str, message: impl Into<String>) -> Fail {
    Fail {
        code: code.to_string(),
        message: message.into(),
    }
}

/// The connection is closed without a reply (an injected fault).
#[derive(Debug)]
pub struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

fn json_reply(status: StatusCode, body: Vec<u8>, date: i64) -> Response<Full<Bytes>> {
    let date = std::time::UNIX_EPOCH + std::time::Duration::from_secs(date.max(0) as u64);
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    // Exactly this: the official SDK ignores error envelopes under any other Content-Type.
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = hyper::header::HeaderValue::from_str(&httpdate::fmt_http_date(date)) {
        headers.insert(hyper::header::DATE, v);
    }
    response
}

fn envelope(result: &Result<Value, Fail>, request_id: &str) -> Vec<u8> {
    let mut inner = match result {
        Ok(Value::Object(m)) => m.clone(),
        Ok(_) => Map::new(),
        Err(f) => {
            let mut m = Map::new();
            m.insert(
                "Error".into(),
                json!({"Code": f.code, "Message": f.message}),
            );
            m
        }
    };
    inner.insert("RequestId".into(), Value::String(request_id.to_string()));
    serde_json::to_vec(&json!({ "Response": inner })).unwrap_or_default()
}

/// Serve one HTTP request.
pub async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let (parts, body) = request.into_parts();
    let now = shared.now();
    if parts.method == Method::GET && parts.uri.path() == CA_PATH {
        let mut r = Response::new(Full::new(Bytes::from(shared.ca_pem.clone())));
        r.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/x-pem-file"),
        );
        return Ok(r);
    }
    let request_id = pgssl_wire::ids::uuid4();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            let result = Err(fail(
                "RequestSizeLimitExceeded",
                "The request body is larger than 10 MB, or could not be read.",
            ));
            return Ok(json_reply(
                StatusCode::OK,
                envelope(&result, &request_id),
                now,
            ));
        }
    };
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let region = header("X-TC-Region").filter(|r| !r.is_empty());

    let (action, result, damage) = match authenticate(&shared, &parts, &body, now) {
        Err((action, f)) => (action, Err(f), Damage::None),
        Ok(action) => {
            let damage = shared.faults.decide(action);
            let result = if damage == Damage::Fail {
                let code = shared
                    .faults
                    .args
                    .fail_with
                    .clone()
                    .unwrap_or_else(|| "InternalError".into());
                Err(Fail {
                    message: format!("Emulated fault: {code}. Please try again later."),
                    code,
                })
            } else {
                execute(&shared, action, region.as_deref(), &body, now)
            };
            (Some(action), result, damage)
        }
    };

    // A finished task may have changed the SSL state a real server stands in for.
    super::pg::sync(&shared).await;

    if let Some(log) = &shared.log {
        let outcome = match &result {
            Ok(v) => match v.get("TaskId") {
                Some(t) => format!("ok TaskId={t}"),
                None => "ok".into(),
            },
            Err(f) => format!("error {}", f.code),
        };
        let damage = match damage {
            Damage::None | Damage::Fail => String::new(),
            d => format!(" fault={d:?}"),
        };
        log(format!(
            "{} {} {} {outcome}{damage} RequestId={request_id}",
            pgssl_wire::clock::now_rfc3339(),
            action.map(Action::name).unwrap_or("-"),
            quote(region.as_deref().unwrap_or("-")),
        ));
    }

    let latency = shared.faults.args.latency_ms;
    if latency > 0 && action.is_none_or(|a| shared.faults.applies_to(a)) {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    let body = envelope(&result, &request_id);
    Ok(match damage {
        Damage::Drop => return Err(Dropped),
        Damage::Truncate => json_reply(StatusCode::OK, body[..body.len() / 2].to_vec(), now),
        Damage::NonJson => {
            let mut r = json_reply(
                StatusCode::OK,
                b"<html><body><h1>Gateway maintenance</h1></body></html>".to_vec(),
                now,
            );
            r.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("text/html"),
            );
            r
        }
        Damage::Status(s) => {
            let mut r = json_reply(
                StatusCode::from_u16(s).unwrap_or(StatusCode::BAD_GATEWAY),
                format!("<html><body>{s} emulated upstream error</body></html>").into_bytes(),
                now,
            );
            r.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("text/html"),
            );
            r
        }
        Damage::None | Damage::Fail => json_reply(StatusCode::OK, body, now),
    })
}

/// Everything that happens before an action runs: protocol, action, version, signature,
/// token, rate limit. Returns the action, or an error (with the action when known).
fn authenticate(
    shared: &Shared,
    parts: &hyper::http::request::Parts,
    body: &[u8],
    now: i64,
) -> Result<Action, (Option<Action>, Fail)> {
    let header =
        |name: &str| -> Option<&str> { parts.headers.get(name).and_then(|v| v.to_str().ok()) };
    if parts.method != Method::POST {
        let f = if parts.method == Method::GET {
            fail(
                "InvalidRequest",
                "The emulator accepts POST with a JSON body; GET requests are not emulated.",
            )
        } else {
            fail(
                "UnsupportedProtocol",
                format!("HTTP method {} is not supported; use POST.", parts.method),
            )
        };
        return Err((None, f));
    }
    let action_name = header("X-TC-Action")
        .filter(|a| !a.is_empty())
        .ok_or_else(|| {
            (
                None,
                fail(
                    "MissingParameter",
                    "The request is missing a required parameter `Action`.",
                ),
            )
        })?;
    let action = Action::from_name(action_name).ok_or_else(|| {
        (
            None,
            fail(
                "InvalidAction",
                format!(
                    "The action `{}` is not supported by the emulator (or does not exist).",
                    quote(action_name)
                ),
            ),
        )
    })?;
    let err = |f: Fail| (Some(action), f);
    match header("X-TC-Version") {
        None | Some("") => {
            return Err(err(fail(
                "MissingParameter",
                "The request is missing a required parameter `Version`.",
            )));
        }
        Some(v) if v != VERSION => {
            return Err(err(fail(
                "NoSuchVersion",
                format!(
                    "The API version `{}` does not exist; use {VERSION}.",
                    quote(v)
                ),
            )));
        }
        Some(_) => {}
    }
    let auth = header("Authorization")
        .and_then(sign::parse_authorization)
        .ok_or_else(|| {
            err(fail(
                "AuthFailure.InvalidAuthorization",
                "The Authorization header is missing or not in TC3-HMAC-SHA256 form.",
            ))
        })?;
    let timestamp: i64 = header("X-TC-Timestamp")
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| {
            err(fail(
                "AuthFailure.InvalidAuthorization",
                "The X-TC-Timestamp header is missing or not a Unix timestamp.",
            ))
        })?;
    if now
        .checked_sub(timestamp)
        .is_none_or(|d| d.abs() > MAX_SKEW_SECS)
    {
        return Err(err(fail(
            "AuthFailure.SignatureExpire",
            format!(
                "Signature expired. Timestamp:{timestamp} Server time:{now}. The request timestamp must be within 5 minutes of the server time."
            ),
        )));
    }
    if auth.service != sign::SERVICE
        || Some(auth.date.as_str()) != sign::utc_date(timestamp).as_deref()
    {
        return Err(err(fail(
            "AuthFailure.InvalidAuthorization",
            "The credential scope must be <UTC date of X-TC-Timestamp>/postgres/tc3_request.",
        )));
    }
    let key = shared
        .keys
        .iter()
        .find(|k| k.secret_id == auth.secret_id)
        .ok_or_else(|| {
            err(fail(
                "AuthFailure.SecretIdNotFound",
                "The SecretId is not found, please ensure that your SecretId is correct.",
            ))
        })?;
    if let Some(token) = &key.token
        && header("X-TC-Token") != Some(token.expose())
    {
        return Err(err(fail(
            "AuthFailure.TokenFailure",
            "The token is invalid or expired.",
        )));
    }
    let names: Vec<&str> = auth.signed_headers.split(';').collect();
    if !names.contains(&"content-type") || !names.contains(&"host") {
        return Err(err(fail(
            "AuthFailure.InvalidAuthorization",
            "SignedHeaders must include content-type and host.",
        )));
    }
    let mut signed = Vec::with_capacity(names.len());
    for name in &names {
        let value = header(name).unwrap_or("");
        signed.push((*name, value));
    }
    let query = parts.uri.query().unwrap_or("");
    // The SDK's unsignedPayload option signs the hash of this literal instead of the body.
    let payload: &[u8] = if header("X-TC-Content-SHA256") == Some("UNSIGNED-PAYLOAD") {
        b"UNSIGNED-PAYLOAD"
    } else {
        body
    };
    let expected = sign::sign(
        &key.secret_id,
        key.secret_key.expose(),
        timestamp,
        &auth.date,
        &RequestParts {
            method: parts.method.as_str(),
            query,
            headers: &signed,
            signed_headers: &auth.signed_headers,
            payload,
        },
    );
    if !sign::signatures_match(&expected.signature, &auth.signature) {
        return Err(err(fail(
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. Please check your signature is correct.",
        )));
    }
    if shared.over_rate(action, &key.secret_id) {
        return Err(err(fail(
            "RequestLimitExceeded",
            format!(
                "Your current request times equals to `{RATE_LIMIT}` in a second, which exceeds the frequency limit `{RATE_LIMIT}` for a second. Please reduce the frequency of calls."
            ),
        )));
    }
    Ok(action)
}

// ------------------------------------------------------------------ parameters

#[derive(Clone, Copy)]
enum Ty {
    Str,
    Int,
    Bool,
    Filters,
}

/// (name, type, required)
type Param = (&'static str, Ty, bool);

fn schema(action: Action) -> &'static [Param] {
    use Ty::*;
    match action {
        Action::DescribeRegions => &[],
        Action::DescribeDBInstances => &[
            ("Filters", Filters, false),
            ("Limit", Int, false),
            ("Offset", Int, false),
            ("OrderBy", Str, false),
            ("OrderByType", Str, false),
        ],
        Action::DescribeDBInstanceAttribute | Action::DescribeDBInstanceSSLConfig => {
            &[("DBInstanceId", Str, true)]
        }
        Action::DescribeReadOnlyGroups => &[
            ("Filters", Filters, false),
            ("PageSize", Int, false),
            ("PageNumber", Int, false),
            ("OrderBy", Str, false),
            ("OrderByType", Str, false),
        ],
        Action::ModifyDBInstanceSSLConfig => &[
            ("DBInstanceId", Str, true),
            ("SSLEnabled", Bool, true),
            ("ConnectAddress", Str, false),
        ],
        Action::DescribeTasks => &[
            ("TaskId", Int, false),
            ("DBInstanceId", Str, false),
            ("MinStartTime", Str, false),
            ("MaxStartTime", Str, false),
            ("Limit", Int, false),
            ("Offset", Int, false),
            ("OrderBy", Str, false),
            ("OrderByType", Str, false),
        ],
    }
}

/// Check the body against the action's parameters; nulls count as absent.
fn check_params(action: Action, body: &[u8]) -> Result<Map<String, Value>, Fail> {
    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(body)
            .map_err(|_| fail("InvalidParameter", "The request body is not valid JSON."))?
    };
    let Value::Object(mut params) = value else {
        return Err(fail(
            "InvalidParameter",
            "The request body must be a JSON object.",
        ));
    };
    params.retain(|_, v| !v.is_null());
    let schema = schema(action);
    for key in params.keys() {
        if !schema.iter().any(|p| p.0 == key) {
            return Err(fail(
                "UnknownParameter",
                format!("The parameter `{}` is not recognized.", quote(key)),
            ));
        }
    }
    for &(name, ty, required) in schema {
        match params.get(name) {
            None if required => {
                return Err(fail(
                    "MissingParameter",
                    format!("The request is missing a required parameter `{name}`."),
                ));
            }
            None => {}
            Some(v) => {
                let ok = match ty {
                    Ty::Str => v.is_string(),
                    Ty::Int => v.is_i64(),
                    Ty::Bool => v.is_boolean(),
                    Ty::Filters => v.as_array().is_some_and(|list| {
                        list.iter().all(|f| {
                            f.as_object().is_some_and(|o| {
                                o.keys().all(|k| k == "Name" || k == "Values")
                                    && o.get("Name").is_some_and(Value::is_string)
                                    && o.get("Values")
                                        .and_then(Value::as_array)
                                        .is_some_and(|vals| vals.iter().all(Value::is_string))
                            })
                        })
                    }),
                };
                if !ok {
                    let expected = match ty {
                        Ty::Str => "a string",
                        Ty::Int => "an integer",
                        Ty::Bool => "a boolean",
                        Ty::Filters => "a list of {\"Name\": string, \"Values\": [string]}",
                    };
                    return Err(fail(
                        "InvalidParameter",
                        format!("The value of parameter `{name}` must be {expected}."),
                    ));
                }
            }
        }
    }
    Ok(params)
}

fn filters(params: &Map<String, Value>) -> Vec<(String, Vec<String>)> {
    params
        .get("Filters")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|f| {
                    (
                        f["Name"].as_str().unwrap_or("").to_string(),
                        f["Values"]
                            .as_array()
                            .map(|v| {
                                v.iter()
                                    .filter_map(|s| s.as_str().map(str::to_string))
                                    .collect()
                            })
                            .unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn int(params: &Map<String, Value>, name: &str) -> Option<i64> {
    params.get(name).and_then(Value::as_i64)
}

fn string<'a>(params: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    params.get(name).and_then(Value::as_str)
}

fn invalid_value(message: impl Into<String>) -> Fail {
    fail("InvalidParameterValue.InvalidParameterValueError", message)
}

fn to_value(v: impl Serialize) -> Result<Value, Fail> {
    serde_json::to_value(v).map_err(|_| fail("InternalError", "Could not encode the reply."))
}

/// The region names DescribeRegions reports.
const REGION_NAMES: [(&str, &str, i64); 18] = [
    ("ap-bangkok", "Southeast Asia(Bangkok)", 23),
    ("ap-beijing", "North China(Beijing)", 8),
    ("ap-chengdu", "Southwest China(Chengdu)", 16),
    ("ap-chongqing", "Southwest China(Chongqing)", 19),
    ("ap-guangzhou", "South China(Guangzhou)", 1),
    (
        "ap-hongkong",
        "Hong Kong, Macau and Taiwan (China)(Hong Kong, China)",
        5,
    ),
    ("ap-jakarta", "Southeast Asia(Jakarta)", 72),
    ("ap-nanjing", "East China(Nanjing)", 33),
    ("ap-seoul", "Northeast Asia(Seoul)", 18),
    ("ap-shanghai", "East China(Shanghai)", 4),
    ("ap-shanghai-fsi", "East China(Shanghai Finance)", 7),
    ("ap-shenzhen-fsi", "South China(Shenzhen Finance)", 11),
    ("ap-singapore", "Southeast Asia(Singapore)", 9),
    ("ap-tokyo", "Northeast Asia(Tokyo)", 25),
    ("eu-frankfurt", "Europe(Frankfurt)", 17),
    ("na-ashburn", "US East(Virginia)", 22),
    ("na-siliconvalley", "US West(Silicon Valley)", 15),
    ("sa-saopaulo", "South America(São Paulo)", 74),
];

/// Run one authenticated action.
fn execute(
    shared: &Shared,
    action: Action,
    region: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<Value, Fail> {
    let params = check_params(action, body)?;
    if action == Action::DescribeRegions {
        let mut set: Vec<RegionInfo> = REGION_NAMES
            .iter()
            .map(|(r, name, id)| RegionInfo {
                Region: Some((*r).into()),
                RegionName: Some((*name).into()),
                RegionId: Some(*id),
                RegionState: Some("AVAILABLE".into()),
                SupportInternational: Some(1),
            })
            .collect();
        // Regions the fleet uses beyond the SSL ones are sold too (without the SSL API).
        for (n, r) in shared
            .fleet()
            .regions()
            .into_iter()
            .filter(|r| !is_ssl_region(r))
            .enumerate()
        {
            set.push(RegionInfo {
                RegionName: Some(r.clone()),
                Region: Some(r),
                RegionId: Some(1000 + n as i64),
                RegionState: Some("AVAILABLE".into()),
                SupportInternational: Some(1),
            });
        }
        return to_value(DescribeRegionsResponse {
            TotalCount: Some(set.len() as i64),
            RegionSet: Some(set),
            RequestId: String::new(),
        });
    }
    let region = region.ok_or_else(|| {
        fail(
            "MissingParameter",
            "The request is missing a required parameter `Region`.",
        )
    })?;
    let mut fleet = shared.fleet();
    let known = is_ssl_region(region) || fleet.regions().iter().any(|r| r == region);
    let ssl_or_task = matches!(
        action,
        Action::DescribeDBInstanceSSLConfig
            | Action::ModifyDBInstanceSSLConfig
            | Action::DescribeTasks
    );
    if !known || (ssl_or_task && !is_ssl_region(region)) {
        return Err(fail(
            "UnsupportedRegion",
            format!(
                "The region `{}` is not supported by this action; supported: {}.",
                quote(region),
                SSL_REGIONS.join(", ")
            ),
        ));
    }
    fleet.advance(now);
    match action {
        Action::DescribeRegions => Err(fail("InternalError", "unreachable")),
        Action::DescribeDBInstances => describe_instances(&fleet, region, &params),
        Action::DescribeDBInstanceAttribute => {
            let id = string(&params, "DBInstanceId").unwrap_or("");
            let inst = fleet.instance(region, id).ok_or_else(|| not_found(id))?;
            to_value(DescribeDBInstanceAttributeResponse {
                DBInstance: Some(inst.clone()),
                RequestId: String::new(),
            })
        }
        Action::DescribeReadOnlyGroups => describe_groups(&fleet, region, &params),
        Action::DescribeDBInstanceSSLConfig => {
            let id = string(&params, "DBInstanceId").unwrap_or("");
            fleet.instance(region, id).ok_or_else(|| not_found(id))?;
            let ssl = fleet.ssl_of(id);
            to_value(DescribeDBInstanceSSLConfigResponse {
                SSLEnabled: Some(ssl.SSLEnabled),
                CAUrl: Some(shared.ca_url()),
                ConnectAddress: Some(if ssl.SSLEnabled {
                    ssl.ConnectAddress.unwrap_or_default()
                } else {
                    String::new()
                }),
                RequestId: String::new(),
            })
        }
        Action::ModifyDBInstanceSSLConfig => {
            let id = string(&params, "DBInstanceId").unwrap_or("").to_string();
            let enable = params
                .get("SSLEnabled")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let address = string(&params, "ConnectAddress").map(str::to_string);
            if address.as_ref().is_some_and(|a| a.len() > 255) {
                return Err(fail(
                    "InvalidParameterValue.ParameterCharacterLimitError",
                    "ConnectAddress is longer than 255 characters.",
                ));
            }
            let inst = fleet.instance(region, &id).ok_or_else(|| not_found(&id))?;
            if inst.status() != "running" {
                return Err(fail(
                    "OperationDenied.InstanceStatusLimitError",
                    format!(
                        "This operation cannot be performed on an instance in this status ({}).",
                        pgssl_wire::text::sanitize(inst.status())
                    ),
                ));
            }
            let target = if enable {
                let address = address.filter(|a| !a.is_empty()).ok_or_else(|| {
                    invalid_value("ConnectAddress is required when enabling SSL or changing the protected address.")
                })?;
                let allowed = fleet.allowed_addresses(inst);
                if !allowed.contains(&address) {
                    return Err(invalid_value(format!(
                        "ConnectAddress `{}` is not an address of instance {id}.",
                        quote(&address)
                    )));
                }
                SSLConfig {
                    DBInstanceId: id.clone(),
                    SSLEnabled: true,
                    ConnectAddress: Some(address),
                }
            } else {
                SSLConfig {
                    DBInstanceId: id.clone(),
                    SSLEnabled: false,
                    ConnectAddress: None,
                }
            };
            let task_id = fleet.start_task(
                region,
                target,
                now,
                shared.task_seconds,
                shared.faults.tasks_fail(),
            );
            to_value(ModifyDBInstanceSSLConfigResponse {
                TaskId: Some(task_id),
                RequestId: String::new(),
            })
        }
        Action::DescribeTasks => describe_tasks(&fleet, region, &params, now),
    }
}

fn not_found(id: &str) -> Fail {
    fail(
        "ResourceNotFound.InstanceNotFoundError",
        format!("The instance does not exist ({}).", quote(id)),
    )
}

/// A value from the request, sanitized and cut short, for an error message.
fn quote(value: &str) -> String {
    pgssl_wire::text::truncate(&pgssl_wire::text::sanitize(value), 64)
}

fn page(params: &Map<String, Value>, default: i64, max: i64) -> Result<(usize, usize), Fail> {
    let limit = match int(params, "Limit") {
        None | Some(0) => default,
        Some(l) if (1..=max).contains(&l) => l,
        Some(l) => {
            return Err(invalid_value(format!(
                "Limit {l} is out of range: 0 to {max}."
            )));
        }
    };
    let offset = int(params, "Offset").unwrap_or(0);
    if offset < 0 {
        return Err(invalid_value("Offset must not be negative."));
    }
    Ok((limit as usize, offset as usize))
}

fn describe_instances(
    fleet: &Fleet,
    region: &str,
    params: &Map<String, Value>,
) -> Result<Value, Fail> {
    let (limit, offset) = page(params, 10, 100)?;
    let filters = filters(params);
    for (name, _) in &filters {
        if !matches!(
            name.as_str(),
            "db-instance-id"
                | "db-instance-name"
                | "db-project-id"
                | "db-pay-mode"
                | "db-tag-key"
                | "db-private-ip"
                | "db-public-address"
                | "db-dedicated-cluster-id"
        ) {
            return Err(invalid_value(format!(
                "Filter `{}` is not supported.",
                quote(name)
            )));
        }
    }
    let mut matched: Vec<_> = fleet
        .instances
        .iter()
        .filter(|i| i.Region.as_deref() == Some(region))
        .filter(|i| {
            filters.iter().all(|(name, values)| {
                values.iter().any(|v| match name.as_str() {
                    "db-instance-id" => i.id() == v,
                    "db-instance-name" => i.name().contains(v.as_str()),
                    "db-project-id" => i.ProjectId.map(|p| p.to_string()).as_deref() == Some(v),
                    "db-pay-mode" => i.PayType.as_deref() == Some(v),
                    "db-tag-key" => i
                        .TagList
                        .iter()
                        .flatten()
                        .any(|t| t.TagKey.as_deref() == Some(v)),
                    "db-private-ip" => i.net_info().iter().any(|n| {
                        n.NetType.as_deref() != Some("public") && n.Ip.as_deref() == Some(v)
                    }),
                    "db-public-address" => i.net_info().iter().any(|n| {
                        n.NetType.as_deref() == Some("public")
                            && (n.Ip.as_deref() == Some(v) || n.Address.as_deref() == Some(v))
                    }),
                    "db-dedicated-cluster-id" => i
                        .DBNodeSet
                        .iter()
                        .flatten()
                        .any(|n| n.DedicatedClusterId.as_deref() == Some(v)),
                    _ => false,
                })
            })
        })
        .collect();
    let order_by = string(params, "OrderBy").unwrap_or("CreateTime");
    let desc = match string(params, "OrderByType").unwrap_or("asc") {
        "asc" => false,
        "desc" => true,
        other => {
            return Err(invalid_value(format!(
                "OrderByType `{}` must be asc or desc.",
                quote(other)
            )));
        }
    };
    let key = |i: &&pgssl_wire::models::DBInstance| -> String {
        match order_by {
            "DBInstanceId" => i.id().to_string(),
            "Name" => i.name().to_string(),
            "EndTime" => i.ExpireTime.clone().unwrap_or_default(),
            _ => i.CreateTime.clone().unwrap_or_default(),
        }
    };
    if !matches!(order_by, "DBInstanceId" | "CreateTime" | "Name" | "EndTime") {
        return Err(invalid_value(format!(
            "OrderBy `{}` must be DBInstanceId, CreateTime, Name or EndTime.",
            quote(order_by)
        )));
    }
    matched.sort_by_key(key);
    if desc {
        matched.reverse();
    }
    let total = matched.len();
    let set = matched
        .into_iter()
        .skip(offset)
        .take(limit)
        .cloned()
        .collect();
    to_value(DescribeDBInstancesResponse {
        TotalCount: Some(total as u64),
        DBInstanceSet: Some(set),
        RequestId: String::new(),
    })
}

fn describe_groups(
    fleet: &Fleet,
    region: &str,
    params: &Map<String, Value>,
) -> Result<Value, Fail> {
    let filters = filters(params);
    let mut master = None;
    let mut group_ids: Option<&Vec<String>> = None;
    for (name, values) in &filters {
        match name.as_str() {
            "db-master-instance-id" => master = values.first().cloned(),
            "read-only-group-id" => group_ids = Some(values),
            other => {
                return Err(invalid_value(format!(
                    "Filter `{}` is not supported.",
                    quote(other)
                )));
            }
        }
    }
    let master = master.ok_or_else(|| {
        fail(
            "MissingParameter",
            "The filter db-master-instance-id is required.",
        )
    })?;
    let size = match int(params, "PageSize") {
        None => 10,
        Some(s) if (1..=99).contains(&s) => s as usize,
        Some(s) => {
            return Err(invalid_value(format!(
                "PageSize {s} is out of range: 1 to 99."
            )));
        }
    };
    let number = match int(params, "PageNumber") {
        None => 1,
        Some(n) if n >= 1 => n as usize,
        Some(n) => return Err(invalid_value(format!("PageNumber {n} must be 1 or more."))),
    };
    let list: Vec<_> = fleet
        .groups_of_master(region, &master)
        .filter(|g| group_ids.is_none_or(|ids| ids.iter().any(|i| i == g.id())))
        .map(|g| fleet.group_view(g))
        .skip((number - 1).saturating_mul(size))
        .take(size)
        .collect();
    to_value(DescribeReadOnlyGroupsResponse {
        ReadOnlyGroupList: Some(list),
        RequestId: String::new(),
    })
}

fn describe_tasks(
    fleet: &Fleet,
    region: &str,
    params: &Map<String, Value>,
    now: i64,
) -> Result<Value, Fail> {
    let limit = match int(params, "Limit") {
        None => 20,
        Some(l) if (1..=100).contains(&l) => l as usize,
        Some(l) => {
            return Err(fail(
                "InvalidParameterValue.ParameterValueExceedError",
                format!("Limit {l} is out of range: 1 to 100."),
            ));
        }
    };
    let offset = int(params, "Offset").unwrap_or(0).max(0) as usize;
    let time_param = |name: &str| -> Result<Option<i64>, Fail> {
        match string(params, name) {
            None => Ok(None),
            Some(s) => parse_time(s).map(Some).ok_or_else(|| {
                invalid_value(format!("{name} must look like 2024-08-23 10:00:00."))
            }),
        }
    };
    let min = time_param("MinStartTime")?.unwrap_or(now - 180 * 86_400);
    let max = time_param("MaxStartTime")?.unwrap_or(i64::MAX);
    let task_id = int(params, "TaskId");
    let instance = string(params, "DBInstanceId");
    let mut tasks: Vec<_> = fleet
        .tasks
        .iter()
        .filter(|t| t.region == region)
        .filter(|t| task_id.is_none_or(|id| t.id == id))
        .filter(|t| instance.is_none_or(|i| t.instance_id == i))
        .filter(|t| t.started >= min && t.started <= max)
        .collect();
    let by_end = string(params, "OrderBy") == Some("EndTime");
    tasks.sort_by_key(|t| {
        if by_end {
            t.finished.map(|f| f.0).unwrap_or(i64::MAX)
        } else {
            t.started
        }
    });
    if string(params, "OrderByType").unwrap_or("desc") == "desc" {
        tasks.reverse();
    }
    let total = tasks.len();
    let set = tasks
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|t| t.to_task_set(now))
        .collect();
    to_value(DescribeTasksResponse {
        TotalCount: Some(total as u64),
        TaskSet: Some(set),
        RequestId: String::new(),
    })
}

/// Accept connections until the task is aborted.
pub async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of file descriptors or similar: back off instead of spinning.
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(shared.clone(), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}
