//! OpenAPI and Swagger import (being written).
