//! The schema as the database reports it, for comparing two states of one service.

use std::collections::BTreeMap;

use roster_storage::{Backend, DbError, ServiceDb};
use sea_orm::{ConnectionTrait, DbErr, QueryResult, Statement, Value};

/// Tables, columns, types, indexes and constraints of one service's schema.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaSnapshot {
    pub tables: BTreeMap<String, Table>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// In declaration order.
    pub columns: Vec<Column>,
    pub indexes: BTreeMap<String, Index>,
    /// Primary key, unique, check and foreign-key constraints, by definition.
    pub constraints: Vec<Constraint>,
    /// Row-level security (PostgreSQL): whether it is enabled and forced, then each
    /// policy with its conditions. Empty when the table has none.
    pub row_security: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub data_type: String,
    pub nullable: bool,
    pub default: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub columns: Vec<String>,
    pub unique: bool,
    /// The full definition where the database gives one (partial indexes differ only
    /// there).
    pub definition: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Constraint {
    pub kind: String,
    pub definition: String,
}

impl SchemaSnapshot {
    /// Table names, sorted.
    pub fn table_names(&self) -> Vec<&str> {
        self.tables.keys().map(String::as_str).collect()
    }
}

/// Reads the schema of the service's database (SQLite) or schema (PostgreSQL).
pub async fn snapshot(db: &ServiceDb) -> Result<SchemaSnapshot, DbError> {
    let conn = db.conn();
    let mut snapshot = SchemaSnapshot::default();
    let tables = query(
        conn,
        match db.backend() {
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            }
            Backend::Postgres => {
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
            }
        },
        [],
    )
    .await?;
    for row in tables {
        let name: String = get(&row, 0)?;
        let table = match db.backend() {
            Backend::Sqlite => sqlite_table(conn, &name).await?,
            Backend::Postgres => pg_table(conn, &name).await?,
        };
        snapshot.tables.insert(name, table);
    }
    Ok(snapshot)
}

async fn sqlite_table(conn: &impl ConnectionTrait, table: &str) -> Result<Table, DbError> {
    let mut out = Table::default();
    for row in query(
        conn,
        "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid",
        [table.into()],
    )
    .await?
    {
        out.columns.push(Column {
            name: get(&row, 0)?,
            data_type: get::<String>(&row, 1)?.to_lowercase(),
            nullable: get::<i64>(&row, 2)? == 0 && get::<i64>(&row, 4)? == 0,
            default: get(&row, 3)?,
        });
    }
    for row in query(
        conn,
        "SELECT name, \"unique\", origin FROM pragma_index_list(?)",
        [table.into()],
    )
    .await?
    {
        let name: String = get(&row, 0)?;
        let columns = query(
            conn,
            "SELECT name FROM pragma_index_info(?) ORDER BY seqno",
            [name.clone().into()],
        )
        .await?
        .iter()
        .map(|r| get(r, 0))
        .collect::<Result<_, _>>()?;
        let definition = query(
            conn,
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?",
            [name.clone().into()],
        )
        .await?
        .first()
        .map(|r| get::<Option<String>>(r, 0))
        .transpose()?
        .flatten();
        out.indexes.insert(
            name,
            Index {
                columns,
                unique: get::<i64>(&row, 1)? == 1,
                definition,
            },
        );
    }
    for row in query(
        conn,
        "SELECT \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq",
        [table.into()],
    )
    .await?
    {
        let (to_table, from, to): (String, String, Option<String>) =
            (get(&row, 0)?, get(&row, 1)?, get(&row, 2)?);
        let (on_update, on_delete): (String, String) = (get(&row, 3)?, get(&row, 4)?);
        out.constraints.push(Constraint {
            kind: "foreign key".to_owned(),
            definition: format!(
                "({from}) REFERENCES {to_table}({}) ON UPDATE {on_update} ON DELETE {on_delete}",
                to.unwrap_or_default()
            ),
        });
    }
    // CHECK constraints live only in the table's SQL; compare it whole.
    if let Some(sql) = query(
        conn,
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
        [table.into()],
    )
    .await?
    .first()
    {
        out.constraints.push(Constraint {
            kind: "table definition".to_owned(),
            definition: get(sql, 0)?,
        });
    }
    out.constraints.sort();
    Ok(out)
}

async fn pg_table(conn: &impl ConnectionTrait, table: &str) -> Result<Table, DbError> {
    let mut out = Table::default();
    for row in query(
        conn,
        "SELECT column_name::text, \
                CASE WHEN data_type = 'USER-DEFINED' THEN udt_name::text ELSE data_type::text END, \
                is_nullable = 'YES', column_default::text, character_maximum_length \
         FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        [table.into()],
    )
    .await?
    {
        let mut data_type: String = get(&row, 1)?;
        if let Some(length) = get::<Option<i32>>(&row, 4)? {
            data_type = format!("{data_type}({length})");
        }
        out.columns.push(Column {
            name: get(&row, 0)?,
            data_type,
            nullable: get(&row, 2)?,
            default: get(&row, 3)?,
        });
    }
    for row in query(
        conn,
        "SELECT i.relname::text, ix.indisunique, pg_get_indexdef(ix.indexrelid), \
                array_to_string(ARRAY( \
                    SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, n) \
                    JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum \
                    ORDER BY k.n), ',') \
         FROM pg_index ix \
         JOIN pg_class i ON i.oid = ix.indexrelid \
         JOIN pg_class t ON t.oid = ix.indrelid \
         WHERE t.relname = $1 AND t.relnamespace = current_schema()::regnamespace",
        [table.into()],
    )
    .await?
    {
        let columns: String = get(&row, 3)?;
        out.indexes.insert(
            get(&row, 0)?,
            Index {
                columns: columns.split(',').map(str::to_owned).collect(),
                unique: get(&row, 1)?,
                definition: Some(get(&row, 2)?),
            },
        );
    }
    for row in query(
        conn,
        "SELECT c.contype::text, c.conname::text || ' ' || pg_get_constraintdef(c.oid) \
         FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
         WHERE t.relname = $1 AND t.relnamespace = current_schema()::regnamespace",
        [table.into()],
    )
    .await?
    {
        out.constraints.push(Constraint {
            kind: get(&row, 0)?,
            definition: get(&row, 1)?,
        });
    }
    out.constraints.sort();
    for row in query(
        conn,
        "SELECT format('enabled %s, forced %s', relrowsecurity, relforcerowsecurity) \
         FROM pg_class WHERE relname = $1 AND relnamespace = current_schema()::regnamespace \
           AND relrowsecurity \
         UNION ALL \
         SELECT * FROM (SELECT format('policy %s for %s using (%s) with check (%s)', \
                                      policyname, cmd, qual, with_check) \
                        FROM pg_policies WHERE schemaname = current_schema() AND tablename = $1 \
                        ORDER BY policyname) AS p",
        [table.into()],
    )
    .await?
    {
        out.row_security.push(get(&row, 0)?);
    }
    Ok(out)
}

async fn query<const N: usize>(
    conn: &impl ConnectionTrait,
    sql: &str,
    values: [Value; N],
) -> Result<Vec<QueryResult>, DbError> {
    Ok(conn
        .query_all_raw(Statement::from_sql_and_values(
            conn.get_database_backend(),
            sql,
            values,
        ))
        .await?)
}

fn get<T: sea_orm::TryGetable>(row: &QueryResult, index: usize) -> Result<T, DbError> {
    row.try_get_by_index(index)
        .map_err(|e: DbErr| DbError::Other(e))
}
