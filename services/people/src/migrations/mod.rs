#![doc = include_str!("README.md")]

mod m20261122_000001_create_people;

use roster_migrate::Migrations;

pub fn all() -> Migrations {
    vec![Box::new(m20261122_000001_create_people::Migration)]
}
