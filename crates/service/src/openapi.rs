use roster_http::{FieldError, Problem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The parts of the OpenAPI document that no single service owns.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Roster",
        description = "An HR platform of services that own their data. Errors are \
                       application/problem+json (RFC 9457); lists are cursor-paginated.",
    ),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerAuth),
)]
pub(crate) struct PlatformDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An EdDSA-signed access token."))
                    .build(),
            ),
        );
    }
}
