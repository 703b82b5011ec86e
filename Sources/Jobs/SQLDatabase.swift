/// A value bound to a statement's placeholder.
public enum SQLValue: Sendable, Equatable {
  case integer(Int64), real(Double), text(String), null

  public static func optional(_ text: String?) -> SQLValue { text.map { .text($0) } ?? .null }
  public static func optional(_ number: Int64?) -> SQLValue { number.map { .integer($0) } ?? .null }

  /// libpq's text form of the value.
  var text: String? {
    switch self {
    case .integer(let number): String(number)
    case .real(let number): String(number)
    case .text(let text): text
    case .null: nil
    }
  }
}

/// Plain statements on a job store's own database, for the tables other modules keep beside
/// the chunks (the HTTP API's tenants, assets and webhooks). Statements use `?` placeholders and
/// portable types (TEXT, BIGINT, DOUBLE PRECISION); times are epoch seconds. Rows come back as
/// text, like the stores' own.
public protocol SQLDatabase: Sendable {
  /// PostgreSQL (cluster) or SQLite (embedded): for the few statements that differ.
  var isPostgres: Bool { get }
  @discardableResult
  func rows(_ sql: String, _ values: [SQLValue]) throws -> [[String?]]
  /// Runs `body` in one transaction (SQLite: a write transaction taken at once).
  func inTransaction<T>(_ body: () throws -> T) throws -> T
}

extension SQLDatabase {
  @discardableResult
  public func rows(_ sql: String) throws -> [[String?]] { try rows(sql, []) }
}

extension PostgresChunkStore: SQLDatabase {
  public var isPostgres: Bool { true }

  public func rows(_ sql: String, _ values: [SQLValue]) throws -> [[String?]] {
    try connection.query(Self.numberingPlaceholders(sql), values.map(\.text))
  }

  public func inTransaction<T>(_ body: () throws -> T) throws -> T { try connection.transaction(body) }

  /// `?` -> `$1`, `$2`, ... (the statements given here hold no `?` inside literals).
  static func numberingPlaceholders(_ sql: String) -> String {
    var result = ""
    var number = 0
    for character in sql {
      if character == "?" {
        number += 1
        result += "$\(number)"
      } else {
        result.append(character)
      }
    }
    return result
  }
}

/// How claims share workers between tenants: a tenant at its concurrent-jobs limit gets no new
/// job (the jobs it is already rendering go on); otherwise the tenant with fewer chunks leased now
/// goes first, then the one whose last claim is oldest (a tenant never served before first of
/// all), then the oldest job. One tenant's long queue thus cannot starve another's later, short
/// job. Both stores order candidate jobs by this.
enum FairShare {
  /// Tenants' leased chunks by job (the jobs they are rendering now).
  typealias Running = [String: [Int64: Int]]

  static func order(_ candidates: [(job: Int64, tenant: String)], running: Running, lastClaim: [String: Double],
                    concurrentJobLimit: [String: Int]) -> [Int64] {
    let leased = running.mapValues { $0.values.reduce(0, +) }
    return candidates.filter { candidate in
      guard let limit = concurrentJobLimit[candidate.tenant] else { return true }
      let rendering = running[candidate.tenant] ?? [:]
      return rendering[candidate.job] != nil || rendering.count < limit
    }.sorted { a, b in
      let (leasedA, leasedB) = (leased[a.tenant] ?? 0, leased[b.tenant] ?? 0)
      if leasedA != leasedB { return leasedA < leasedB }
      let (lastA, lastB) = (lastClaim[a.tenant] ?? 0, lastClaim[b.tenant] ?? 0)
      if lastA != lastB { return lastA < lastB }
      return a.job < b.job
    }.map(\.job)
  }

  /// The state `order` needs, read with the store's own query function (`?` placeholders).
  static func read(_ query: (String) throws -> [[String?]]) throws -> (Running, [String: Double], [String: Int]) {
    var running: Running = [:]
    for row in try query("""
      SELECT jobs.tenant, chunks.job_id, COUNT(*) FROM chunks JOIN jobs ON jobs.id = chunks.job_id
      WHERE chunks.state = 'leased' GROUP BY jobs.tenant, chunks.job_id
      """) {
      running[row[0] ?? "", default: [:]][Int64(row[1] ?? "") ?? 0] = Int(row[2] ?? "") ?? 0
    }
    var lastClaim: [String: Double] = [:], limits: [String: Int] = [:]
    for row in try query("SELECT tenant, last_claim_at, max_concurrent_jobs FROM tenant_claims") {
      lastClaim[row[0] ?? ""] = Double(row[1] ?? "") ?? 0
      if let limit = row[2].flatMap({ Int($0) }) { limits[row[0] ?? ""] = limit }
    }
    return (running, lastClaim, limits)
  }
}
