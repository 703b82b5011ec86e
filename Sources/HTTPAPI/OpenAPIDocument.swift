/// The API's contract, served at /openapi.json (validated in CI by openapi-spec-validator and exercised by schemathesis).
enum OpenAPIDocument {
  static let json = #"""
  {
    "openapi": "3.0.3",
    "info": {
      "title": "Swapline API",
      "version": "1.0.0",
      "description": "Swapline swaps faces in images and videos. Upload the source faces and the target as assets, submit a job that names them together with FaceFusion's processing options, follow its progress through a Server-Sent Events stream (or by polling), and download the output once the job has succeeded. Tenants authenticate with Bearer API keys; every error response shares one shape: {\"error\": {\"code\", \"message\", \"field\"}}."
    },
    "servers": [
      {
        "url": "/"
      }
    ],
    "tags": [
      {
        "name": "health",
        "description": "Liveness, readiness, metrics and this document."
      },
      {
        "name": "assets",
        "description": "Uploaded images and videos."
      },
      {
        "name": "jobs",
        "description": "Face-swapping jobs."
      },
      {
        "name": "models",
        "description": "The models the engine knows about."
      }
    ],
    "paths": {
      "/healthz": {
        "get": {
          "operationId": "getHealth",
          "tags": [
            "health"
          ],
          "summary": "Liveness probe",
          "security": [],
          "responses": {
            "200": {
              "description": "The process is alive.",
              "content": {
                "application/json": {
                  "schema": {
                    "type": "object",
                    "required": [
                      "status"
                    ],
                    "properties": {
                      "status": {
                        "type": "string",
                        "example": "ok"
                      }
                    }
                  }
                }
              }
            }
          }
        }
      },
      "/readyz": {
        "get": {
          "operationId": "getReadiness",
          "tags": [
            "health"
          ],
          "summary": "Readiness probe",
          "security": [],
          "responses": {
            "200": {
              "description": "Ready to serve (`{\"status\": \"ready\"}`).",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/Readiness"
                  }
                }
              }
            },
            "503": {
              "description": "Not ready (`{\"status\": \"unavailable\", \"problems\": [...]}`).",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/Readiness"
                  }
                }
              }
            }
          }
        }
      },
      "/metrics": {
        "get": {
          "operationId": "getMetrics",
          "tags": [
            "health"
          ],
          "summary": "Prometheus metrics",
          "security": [],
          "responses": {
            "200": {
              "description": "Metrics in the Prometheus text exposition format.",
              "content": {
                "text/plain": {
                  "schema": {
                    "type": "string"
                  }
                }
              }
            }
          }
        }
      },
      "/openapi.json": {
        "get": {
          "operationId": "getOpenAPIDocument",
          "tags": [
            "health"
          ],
          "summary": "This document",
          "security": [],
          "responses": {
            "200": {
              "description": "The OpenAPI document describing this API.",
              "content": {
                "application/json": {
                  "schema": {
                    "type": "object"
                  }
                }
              }
            }
          }
        }
      },
      "/v1/assets": {
        "post": {
          "operationId": "createAsset",
          "tags": [
            "assets"
          ],
          "summary": "Upload an image or video",
          "description": "The raw bytes of one image or video form the body. Its kind and format are found by probing the content, never from the Content-Type or a file name. Video containers taken: MP4/MOV, Matroska/WebM, AVI (playlists and file lists are refused); a video longer than the tenant's frames-per-job limit is refused with 413 before any frame is decoded.",
          "security": [
            {
              "bearer": []
            }
          ],
          "requestBody": {
            "required": true,
            "content": {
              "application/octet-stream": {
                "schema": {
                  "type": "string",
                  "format": "binary"
                }
              },
              "image/png": {
                "schema": {
                  "type": "string",
                  "format": "binary"
                }
              },
              "image/jpeg": {
                "schema": {
                  "type": "string",
                  "format": "binary"
                }
              },
              "image/webp": {
                "schema": {
                  "type": "string",
                  "format": "binary"
                }
              },
              "video/mp4": {
                "schema": {
                  "type": "string",
                  "format": "binary"
                }
              }
            }
          },
          "responses": {
            "201": {
              "description": "The stored asset.",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/Asset"
                  }
                }
              }
            },
            "401": {
              "$ref": "#/components/responses/Unauthorized"
            },
            "413": {
              "description": "The upload is over the size limit or the tenant's storage quota.",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/Error"
                  }
                }
              }
            },
            "422": {
              "description": "Not a usable image or video: empty, truncated, unrecognised, or with oversized dimensions.",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/Error"
                  }
                }
              }
            },
            "507": {
              "description": "The server could not store the upload (disk full).",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/Error"
                  }
                }
              }
            }
          }
        }
      },
      "/v1/assets/{id}": {
        "get": {
          "operationId": "getAsset",
          "tags": [
            "assets"
          ],
          "summary": "Get an asset",
          "security": [
            {
              "bearer": []
            }
          ],
          "parameters": [
            {
              "name": "id",
              "in": "path",
              "required": true,
              "description": "The asset's id.",
              "schema": {
                "type": "string"
              }
            }
          ],
          "responses": {
            "200": {
              "description": "The asset.",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/Asset"
                  }
                }
              }
            },
            "401": {
              "$ref": "#/components/responses/Unauthorized"
            },
            "404": {
              "$ref": "#/components/responses/NotFound"
            }
          }
        }
      },
      "/v1/assets/{id}/content": {
        "get": {
          "operationId": "getAssetContent",
          "tags": [
            "assets"
          ],
          "summary": "Download an asset's bytes",
          "description": "The file as uploaded: images as image/png, image/jpeg or image/webp, videos as application/octet-stream. A single byte range is honoured as for job outputs.",
          "security": [
            {
              "bearer": []
            }
          ],
          "parameters": [
            {
              "name": "id",
              "in": "path",
              "required": true,
              "description": "The asset's id.",
              "schema": {
                "type": "string"
              }
            },
            {
              "name": "Range",
              "in": "header",
              "required": false,
              "description": "A single byte range, e.g. `bytes=0-1023`.",
              "schema": {
                "type": "string"
              }
            }
          ],
          "responses": {
            "200": {
              "description": "The whole file.",
              "content": {
                "image/png": {
                  "schema": {
                    "type": "string",
                    "format": "binary"
                  }
                },
                "image/jpeg": {
                  "schema": {
                    "type": "string",
                    "format": "binary"
                  }
                },
                "image/webp": {
                  "schema": {
                    "type": "string",
                    "format": "binary"
                  }
                },
                "application/octet-stream": {
                  "schema": {
                    "type": "string",
                    "format": "binary"
                  }
                }
              }
            },
            "206": {
              "description": "The requested byte range.",
              "headers": {
                "Content-Range": {
                  "description": "The range sent, e.g. `bytes 0-1023/4096`.",
                  "schema": {
                    "type": "string"
                  }
                }
              },
              "content": {
                "image/png": {
                  "schema": {
                    "type": "string",
                    "format": "binary"
                  }
                },
                "image/jpeg": {
                  "schema": {
                    "type": "string",
                    "format": "binary"
                  }
                },
                "image/webp": {
                  "schema": {
                    "type": "string",
                    "format": "binary"
                  }
                },
                "application/octet-stream": {
                  "schema": {
                    "type": "string",
                    "format": "binary"
                  }
                }
              }
            },
            "401": {
              "$ref": "#/components/responses/Unauthorized"
            },
            "404": {
              "$ref": "#/components/responses/NotFound"
            },
            "416": {
              "description": "The range cannot be satisfied.",
              "headers": {
                "Content-Range": {
                  "description": "The file's size, e.g. `bytes */4096`.",
                  "schema": {
                    "type": "string"
                  }
                }
              }
            }
          }
        }
      },
      "/v1/jobs": {
        "post": {
          "operationId": "createJob",
          "tags": [
            "jobs"
          ],
          "summary": "Submit a face-swapping job",
          "security": [
            {
              "bearer": []
            }
          ],
          "parameters": [
            {
              "name": "Idempotency-Key",
              "in": "header",
              "required": false,
              "description": "Makes the submission safe to retry: a repeat with the same key and body returns the original job (200, `Idempotent-Replayed: true`); the same key with a different body is refused (422).",
              "schema": {
                "type": "string",
                "maxLength": 255
              }
            },
            {
              "name": "Prefer",
              "in": "header",
              "required": false,
              "description": "`wait=N` holds the response up to N seconds for the job to finish; `Preference-Applied` says when it was honoured.",
              "schema": {
                "type": "string"
              },
              "example": "wait=10"
            }
          ],
          "requestBody": {
            "required": true,
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/JobRequest"
                }
              }
            }
          },
          "responses": {
            "200": {
              "description": "A replay of an earlier submission with the same Idempotency-Key.",
              "headers": {
                "Idempotent-Replayed": {
                  "description": "Always `true` on a replay.",
                  "schema": {
                    "type": "string",
                    "enum": [
                      "true"
                    ]
                  }
                },
                "Location": {
                  "description": "The job's URL.",
                  "schema": {
                    "type": "string"
                  }
                }
              },
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/Job"
                  }
                }
              }
            },
            "201": {
              "description": "The new job.",
              "headers": {
                "Location": {
                  "description": "The job's URL.",
                  "schema": {
                    "type": "string"
                  }
                },
                "Preference-Applied": {
                  "description": "Echoes the `Prefer` preference that was honoured, e.g. `wait=10`.",
                  "required": false,
                  "schema": {
                    "type": "string"
                  }
                }
              },
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/Job"
                  }
                }
              }
            },
            "401": {
              "$ref": "#/components/responses/Unauthorized"
            },
            "404": {
              "description": "A source or target asset was not found (including another tenant's).",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/Error"
                  }
                }
              }
            },
            "413": {
              "description": "Too many frames, or the request body is too large.",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/Error"
                  }
                }
              }
            },
            "422": {
              "description": "An invalid field, an unknown option, no face found in the sources, or an Idempotency-Key reused with a different body.",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/Error"
                  }
                }
              }
            },
            "429": {
              "$ref": "#/components/responses/TooManyRequests"
            }
          }
        },
        "get": {
          "operationId": "listJobs",
          "tags": [
            "jobs"
          ],
          "summary": "List jobs, newest first",
          "security": [
            {
              "bearer": []
            }
          ],
          "parameters": [
            {
              "name": "status",
              "in": "query",
              "required": false,
              "description": "Only jobs in this status.",
              "schema": {
                "type": "string",
                "enum": [
                  "queued",
                  "processing",
                  "succeeded",
                  "failed",
                  "canceled"
                ]
              }
            },
            {
              "name": "limit",
              "in": "query",
              "required": false,
              "description": "The page size.",
              "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": 100,
                "default": 20
              }
            },
            {
              "name": "after",
              "in": "query",
              "required": false,
              "description": "The cursor from a previous page's `next_cursor`.",
              "schema": {
                "type": "string"
              }
            }
          ],
          "responses": {
            "200": {
              "description": "A page of jobs.",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/JobList"
                  }
                }
              }
            },
            "401": {
              "$ref": "#/components/responses/Unauthorized"
            },
            "422": {
              "description": "An invalid query parameter.",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/Error"
                  }
                }
              }
            }
          }
        }
      },
      "/v1/jobs/{id}": {
        "parameters": [
          {
            "$ref": "#/components/parameters/JobId"
          }
        ],
        "get": {
          "operationId": "getJob",
          "tags": [
            "jobs"
          ],
          "summary": "Get a job",
          "security": [
            {
              "bearer": []
            }
          ],
          "responses": {
            "200": {
              "description": "The job.",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/Job"
                  }
                }
              }
            },
            "401": {
              "$ref": "#/components/responses/Unauthorized"
            },
            "404": {
              "$ref": "#/components/responses/NotFound"
            }
          }
        },
        "delete": {
          "operationId": "deleteJob",
          "tags": [
            "jobs"
          ],
          "summary": "Delete a job and its output",
          "security": [
            {
              "bearer": []
            }
          ],
          "responses": {
            "204": {
              "description": "Deleted."
            },
            "401": {
              "$ref": "#/components/responses/Unauthorized"
            },
            "404": {
              "$ref": "#/components/responses/NotFound"
            }
          }
        }
      },
      "/v1/jobs/{id}/cancel": {
        "parameters": [
          {
            "$ref": "#/components/parameters/JobId"
          }
        ],
        "post": {
          "operationId": "cancelJob",
          "tags": [
            "jobs"
          ],
          "summary": "Cancel a queued or processing job",
          "security": [
            {
              "bearer": []
            }
          ],
          "responses": {
            "200": {
              "description": "The canceled job.",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/Job"
                  }
                }
              }
            },
            "401": {
              "$ref": "#/components/responses/Unauthorized"
            },
            "404": {
              "$ref": "#/components/responses/NotFound"
            },
            "409": {
              "description": "The job has already finished.",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/Error"
                  }
                }
              }
            }
          }
        }
      },
      "/v1/jobs/{id}/retry": {
        "parameters": [
          {
            "$ref": "#/components/parameters/JobId"
          }
        ],
        "post": {
          "operationId": "retryJob",
          "tags": [
            "jobs"
          ],
          "summary": "Retry a failed or canceled job",
          "security": [
            {
              "bearer": []
            }
          ],
          "responses": {
            "200": {
              "description": "The requeued job.",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/Job"
                  }
                }
              }
            },
            "401": {
              "$ref": "#/components/responses/Unauthorized"
            },
            "404": {
              "$ref": "#/components/responses/NotFound"
            },
            "409": {
              "description": "The job is neither failed nor canceled, or its files have expired.",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/Error"
                  }
                }
              }
            }
          }
        }
      },
      "/v1/jobs/{id}/output": {
        "parameters": [
          {
            "$ref": "#/components/parameters/JobId"
          }
        ],
        "get": {
          "operationId": "getJobOutput",
          "tags": [
            "jobs"
          ],
          "summary": "Download a job's output",
          "security": [
            {
              "bearer": []
            }
          ],
          "parameters": [
            {
              "name": "Range",
              "in": "header",
              "required": false,
              "description": "A single byte range, e.g. `bytes=0-1023`.",
              "schema": {
                "type": "string"
              }
            }
          ],
          "responses": {
            "200": {
              "description": "The whole output.",
              "content": {
                "video/mp4": {
                  "schema": {
                    "type": "string",
                    "format": "binary"
                  }
                },
                "video/x-matroska": {
                  "schema": {
                    "type": "string",
                    "format": "binary"
                  }
                },
                "video/quicktime": {
                  "schema": {
                    "type": "string",
                    "format": "binary"
                  }
                },
                "video/webm": {
                  "schema": {
                    "type": "string",
                    "format": "binary"
                  }
                },
                "image/png": {
                  "schema": {
                    "type": "string",
                    "format": "binary"
                  }
                },
                "image/jpeg": {
                  "schema": {
                    "type": "string",
                    "format": "binary"
                  }
                },
                "image/webp": {
                  "schema": {
                    "type": "string",
                    "format": "binary"
                  }
                },
                "application/octet-stream": {
                  "schema": {
                    "type": "string",
                    "format": "binary"
                  }
                }
              }
            },
            "206": {
              "description": "The requested byte range of the output.",
              "headers": {
                "Content-Range": {
                  "description": "The range sent, e.g. `bytes 0-1023/4096`.",
                  "schema": {
                    "type": "string"
                  }
                }
              },
              "content": {
                "video/mp4": {
                  "schema": {
                    "type": "string",
                    "format": "binary"
                  }
                },
                "video/x-matroska": {
                  "schema": {
                    "type": "string",
                    "format": "binary"
                  }
                },
                "video/quicktime": {
                  "schema": {
                    "type": "string",
                    "format": "binary"
                  }
                },
                "video/webm": {
                  "schema": {
                    "type": "string",
                    "format": "binary"
                  }
                },
                "image/png": {
                  "schema": {
                    "type": "string",
                    "format": "binary"
                  }
                },
                "image/jpeg": {
                  "schema": {
                    "type": "string",
                    "format": "binary"
                  }
                },
                "image/webp": {
                  "schema": {
                    "type": "string",
                    "format": "binary"
                  }
                },
                "application/octet-stream": {
                  "schema": {
                    "type": "string",
                    "format": "binary"
                  }
                }
              }
            },
            "401": {
              "$ref": "#/components/responses/Unauthorized"
            },
            "404": {
              "$ref": "#/components/responses/NotFound"
            },
            "409": {
              "description": "The job has not succeeded (yet).",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/Error"
                  }
                }
              }
            },
            "410": {
              "description": "The output has expired.",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/Error"
                  }
                }
              }
            },
            "416": {
              "description": "The range cannot be satisfied.",
              "headers": {
                "Content-Range": {
                  "description": "The output's size, e.g. `bytes */4096`.",
                  "schema": {
                    "type": "string"
                  }
                }
              }
            }
          }
        }
      },
      "/v1/jobs/{id}/events": {
        "parameters": [
          {
            "$ref": "#/components/parameters/JobId"
          }
        ],
        "get": {
          "operationId": "getJobEvents",
          "tags": [
            "jobs"
          ],
          "summary": "Follow a job's progress (Server-Sent Events)",
          "security": [
            {
              "bearer": []
            }
          ],
          "responses": {
            "200": {
              "description": "A Server-Sent Events stream. It opens with a `state` event (data: the Job as JSON), sends `progress` events (data: Progress JSON) as work advances, and ends with a `done` event (data: the final Job as JSON) once the job is succeeded, failed or canceled, after which the stream closes. Comment lines `: keep-alive` are sent every 15 seconds.",
              "content": {
                "text/event-stream": {
                  "schema": {
                    "type": "string"
                  }
                }
              }
            },
            "401": {
              "$ref": "#/components/responses/Unauthorized"
            },
            "404": {
              "$ref": "#/components/responses/NotFound"
            }
          }
        }
      },
      "/v1/models": {
        "get": {
          "operationId": "listModels",
          "tags": [
            "models"
          ],
          "summary": "List the engine's models",
          "security": [
            {
              "bearer": []
            }
          ],
          "responses": {
            "200": {
              "description": "The models.",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/ModelList"
                  }
                }
              }
            },
            "401": {
              "$ref": "#/components/responses/Unauthorized"
            }
          }
        }
      }
    },
    "components": {
      "securitySchemes": {
        "bearer": {
          "type": "http",
          "scheme": "bearer",
          "description": "A tenant's API key."
        }
      },
      "parameters": {
        "JobId": {
          "name": "id",
          "in": "path",
          "required": true,
          "description": "The job's id.",
          "schema": {
            "type": "string"
          }
        }
      },
      "responses": {
        "Unauthorized": {
          "description": "Missing or invalid Bearer key.",
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/Error"
              }
            }
          }
        },
        "NotFound": {
          "description": "Not found (or owned by another tenant).",
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/Error"
              }
            }
          }
        },
        "TooManyRequests": {
          "description": "The tenant's quota or rate limit is exhausted; retry after the given number of seconds.",
          "headers": {
            "Retry-After": {
              "description": "Seconds to wait before retrying.",
              "schema": {
                "type": "integer"
              }
            }
          },
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/Error"
              }
            }
          }
        }
      },
      "schemas": {
        "Error": {
          "type": "object",
          "required": [
            "error"
          ],
          "properties": {
            "error": {
              "type": "object",
              "required": [
                "code",
                "message",
                "field"
              ],
              "properties": {
                "code": {
                  "type": "string",
                  "description": "A stable, machine-readable code, e.g. `not_found`, `invalid_request`."
                },
                "message": {
                  "type": "string",
                  "description": "A human-readable explanation."
                },
                "field": {
                  "type": "string",
                  "nullable": true,
                  "description": "The request field at fault, when there is one."
                }
              }
            }
          }
        },
        "Readiness": {
          "type": "object",
          "required": [
            "status"
          ],
          "properties": {
            "status": {
              "type": "string",
              "description": "`ready` or `unavailable`."
            },
            "problems": {
              "type": "array",
              "items": {
                "type": "string"
              },
              "description": "What keeps the service from being ready."
            }
          }
        },
        "Asset": {
          "type": "object",
          "required": [
            "id",
            "object",
            "kind",
            "size",
            "width",
            "height",
            "format",
            "created_at",
            "expires_at",
            "duration",
            "frames"
          ],
          "properties": {
            "id": {
              "type": "string"
            },
            "object": {
              "type": "string",
              "enum": [
                "asset"
              ]
            },
            "kind": {
              "type": "string",
              "enum": [
                "image",
                "video"
              ]
            },
            "size": {
              "type": "integer",
              "description": "Bytes."
            },
            "width": {
              "type": "integer"
            },
            "height": {
              "type": "integer"
            },
            "format": {
              "type": "string",
              "description": "The probed container or image format."
            },
            "created_at": {
              "type": "number",
              "description": "Unix time, seconds."
            },
            "expires_at": {
              "type": "number",
              "description": "Unix time, seconds."
            },
            "duration": {
              "type": "number",
              "nullable": true,
              "description": "Seconds; null for images."
            },
            "frames": {
              "type": "integer",
              "nullable": true,
              "description": "Frame count; null for images."
            }
          }
        },
        "JobRequest": {
          "type": "object",
          "additionalProperties": false,
          "required": [
            "sources",
            "target"
          ],
          "properties": {
            "sources": {
              "type": "array",
              "minItems": 1,
              "maxItems": 10,
              "items": {
                "type": "string"
              },
              "description": "Asset ids of the source faces (images)."
            },
            "target": {
              "type": "string",
              "description": "Asset id of the target image or video."
            },
            "options": {
              "type": "object",
              "additionalProperties": true,
              "description": "The engine configuration's JSON form (FaceFusion's options), in groups such as `faceSwapper` (`model`, `weight`, `pixelBoost`), `faceDetector`, `faceMasker`, `faceEnhancer`, `frameEnhancer`, `output`, `video` and `processors`. Omitted groups and keys take the defaults; unknown keys are refused with 422."
            },
            "output_format": {
              "type": "string",
              "enum": [
                "png",
                "jpg",
                "webp",
                "mp4",
                "mkv",
                "mov",
                "webm"
              ],
              "description": "The output's format; by default the target's."
            },
            "webhook": {
              "type": "object",
              "additionalProperties": false,
              "required": [
                "url"
              ],
              "properties": {
                "url": {
                  "type": "string",
                  "format": "uri"
                },
                "events": {
                  "type": "array",
                  "items": {
                    "type": "string",
                    "enum": [
                      "job.processing",
                      "job.succeeded",
                      "job.failed",
                      "job.canceled"
                    ]
                  },
                  "description": "The events to deliver; by default `job.succeeded`, `job.failed` and `job.canceled`."
                }
              }
            }
          }
        },
        "Progress": {
          "type": "object",
          "required": [
            "frames_done",
            "frames_total",
            "chunks",
            "chunk_states",
            "fps",
            "eta_seconds"
          ],
          "properties": {
            "frames_done": {
              "type": "integer"
            },
            "frames_total": {
              "type": "integer"
            },
            "chunks": {
              "type": "object",
              "required": [
                "pending",
                "leased",
                "done",
                "dead"
              ],
              "properties": {
                "pending": {
                  "type": "integer"
                },
                "leased": {
                  "type": "integer"
                },
                "done": {
                  "type": "integer"
                },
                "dead": {
                  "type": "integer"
                }
              }
            },
            "chunk_states": {
              "type": "string",
              "pattern": "^[pldx]*$",
              "description": "One letter per chunk in frame order: p pending, l leased (rendering), d done, x dead."
            },
            "fps": {
              "type": "number",
              "nullable": true,
              "description": "Frames per second so far; null before any frame is done."
            },
            "eta_seconds": {
              "type": "number",
              "nullable": true,
              "description": "Estimated seconds left; null when unknown or finished."
            }
          }
        },
        "Job": {
          "type": "object",
          "required": [
            "id",
            "object",
            "kind",
            "status",
            "sources",
            "target",
            "options",
            "created_at",
            "started_at",
            "finished_at",
            "queue_position",
            "progress",
            "error",
            "output",
            "webhook"
          ],
          "properties": {
            "id": {
              "type": "string"
            },
            "object": {
              "type": "string",
              "enum": [
                "job"
              ]
            },
            "kind": {
              "type": "string",
              "enum": [
                "image",
                "video"
              ]
            },
            "status": {
              "type": "string",
              "enum": [
                "queued",
                "processing",
                "succeeded",
                "failed",
                "canceled"
              ]
            },
            "sources": {
              "type": "array",
              "items": {
                "type": "string"
              }
            },
            "target": {
              "type": "string"
            },
            "options": {
              "type": "object",
              "additionalProperties": true
            },
            "created_at": {
              "type": "number",
              "description": "Unix time, seconds."
            },
            "started_at": {
              "type": "number",
              "nullable": true,
              "description": "Unix time, seconds; null until a worker starts it."
            },
            "finished_at": {
              "type": "number",
              "nullable": true,
              "description": "Unix time, seconds; null until it succeeds, fails or is canceled."
            },
            "queue_position": {
              "type": "integer",
              "nullable": true,
              "description": "Position in the queue while queued; otherwise null."
            },
            "progress": {
              "$ref": "#/components/schemas/Progress"
            },
            "error": {
              "type": "object",
              "nullable": true,
              "required": [
                "code",
                "message"
              ],
              "properties": {
                "code": {
                  "type": "string"
                },
                "message": {
                  "type": "string"
                }
              },
              "description": "Why the job failed or was canceled; otherwise null."
            },
            "output": {
              "type": "object",
              "nullable": true,
              "required": [
                "url",
                "size",
                "content_type"
              ],
              "properties": {
                "url": {
                  "type": "string"
                },
                "size": {
                  "type": "integer"
                },
                "content_type": {
                  "type": "string"
                }
              },
              "description": "The output, once the job has succeeded and while it has not expired; otherwise null."
            },
            "webhook": {
              "type": "object",
              "nullable": true,
              "required": [
                "url",
                "events"
              ],
              "properties": {
                "url": {
                  "type": "string"
                },
                "events": {
                  "type": "array",
                  "items": {
                    "type": "string"
                  }
                }
              },
              "description": "The job's webhook, if any."
            }
          }
        },
        "JobList": {
          "type": "object",
          "required": [
            "object",
            "data",
            "has_more",
            "next_cursor"
          ],
          "properties": {
            "object": {
              "type": "string",
              "enum": [
                "list"
              ]
            },
            "data": {
              "type": "array",
              "items": {
                "$ref": "#/components/schemas/Job"
              }
            },
            "has_more": {
              "type": "boolean"
            },
            "next_cursor": {
              "type": "string",
              "nullable": true,
              "description": "Pass as `after` to get the next page; null on the last page."
            }
          }
        },
        "Model": {
          "type": "object",
          "required": [
            "id",
            "object",
            "role",
            "file",
            "present",
            "licence",
            "offline_pack",
            "commercial_use"
          ],
          "properties": {
            "id": {
              "type": "string"
            },
            "object": {
              "type": "string",
              "enum": [
                "model"
              ]
            },
            "role": {
              "type": "string"
            },
            "file": {
              "type": "string"
            },
            "present": {
              "type": "boolean",
              "description": "Whether the model's file is installed."
            },
            "licence": {
              "type": "string"
            },
            "offline_pack": {
              "type": "boolean"
            },
            "commercial_use": {
              "type": "boolean",
              "nullable": true,
              "description": "Whether the licence allows commercial use; null when unknown."
            }
          }
        },
        "ModelList": {
          "type": "object",
          "required": [
            "object",
            "data"
          ],
          "properties": {
            "object": {
              "type": "string",
              "enum": [
                "list"
              ]
            },
            "data": {
              "type": "array",
              "items": {
                "$ref": "#/components/schemas/Model"
              }
            }
          }
        }
      }
    }
  }
  """#
}
