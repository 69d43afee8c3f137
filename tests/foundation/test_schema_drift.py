"""schema_drift reports each kind of drift between the models/contract and a live database."""

import pytest

from backoffice.contract.report import contract_function_names, contract_index_names, find_drift


def test_clean_on_a_migrated_database(contract_db):
    result = contract_db.manage("schema_drift")
    assert result.returncode == 0, result.stdout
    assert "No schema drift." in result.stdout


def test_reports_a_dropped_column(contract_db):
    contract_db.sql('ALTER TABLE "user" DROP COLUMN ban_reason')
    result = contract_db.manage("schema_drift")
    assert result.returncode == 1
    assert "user.ban_reason: column of security.GatewayUser.ban_reason is missing" in result.stdout


def test_reports_a_changed_type(contract_db):
    contract_db.sql("ALTER TABLE api_keys ALTER COLUMN usage_count TYPE integer")
    result = contract_db.manage("schema_drift")
    assert result.returncode == 1
    assert "api_keys.usage_count: type is integer, model expects bigint" in result.stdout


def test_reports_changed_nullability(contract_db):
    contract_db.sql("ALTER TABLE tenants ALTER COLUMN plan DROP NOT NULL")
    result = contract_db.manage("schema_drift")
    assert result.returncode == 1
    assert "tenants.plan: column is nullable, model expects NOT NULL" in result.stdout


def test_reports_a_dropped_index(contract_db):
    contract_db.sql("DROP INDEX idx_audit_logs_tenant_time")
    result = contract_db.manage("schema_drift")
    assert result.returncode == 1
    assert "idx_audit_logs_tenant_time: contract index is missing" in result.stdout


def test_reports_a_missing_table_view_and_function(contract_db):
    contract_db.sql("DROP VIEW performance_monitoring")
    contract_db.sql("DROP FUNCTION get_tenant_usage_summary(uuid, integer)")
    contract_db.sql("DROP TABLE verification")
    result = contract_db.manage("schema_drift")
    assert result.returncode == 1
    assert "performance_monitoring: table or view of monitoring.PerformanceMetric is missing" in (
        result.stdout
    )
    assert "get_tenant_usage_summary(): contract function is missing" in result.stdout
    assert "verification: table or view of security.Verification is missing" in result.stdout


def test_json_instead_of_jsonb_is_a_warning_not_an_error(contract_db):
    contract_db.sql("ALTER TABLE tenants ALTER COLUMN settings TYPE json USING settings::json")
    result = contract_db.manage("schema_drift")
    assert result.returncode == 0, result.stdout
    assert "WARNING: tenants.settings: type is json, model expects jsonb" in result.stdout


def test_system_check_reports_drift_as_errors(contract_db):
    contract_db.sql("ALTER TABLE mcp_servers DROP COLUMN tags")
    result = contract_db.manage("check", "--database", "default")
    assert result.returncode == 1
    assert "backoffice.E001" in result.stderr
    assert "mcp_servers.tags" in result.stderr


def test_contract_lists_38_indexes_and_3_functions():
    assert len(contract_index_names()) == 38
    assert contract_function_names() == {
        "get_server_health_summary",
        "get_request_performance_summary",
        "get_tenant_usage_summary",
    }


@pytest.mark.django_db
def test_test_database_has_no_drift():
    assert find_drift() == []
