"""The CRM (Waypath "Pipeline", the system of record): persons, companies and deals."""
