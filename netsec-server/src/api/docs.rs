//! The OpenAPI document, generated from the handlers' annotations, and its browsable page.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{admin, alerts, capture, data, filters, live, rules, session};

/// The API's OpenAPI 3 document.
#[derive(OpenApi)]
#[openapi(
    info(title = "netsec-server", description = "Live sensor: alerts, flows, devices, analytics, capture control (API.md)."),
    paths(
        capture::health, session::login, session::refresh, session::me,
        alerts::list, alerts::get, alerts::patch, alerts::history, alerts::flow, alerts::groups, alerts::patch_group,
        filters::list, filters::create, filters::delete,
        admin::users, admin::create_user, admin::delete_user,
        admin::tokens, admin::create_token, admin::delete_token,
        data::flows, data::devices, data::overview, data::trends, data::top,
        capture::status, capture::start, capture::stop, rules::get, rules::reload,
        live::ws, live::sse,
    ),
    modifiers(&Bearer),
    tags((name = "alerts"), (name = "auth"), (name = "admin"), (name = "capture"))
)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
