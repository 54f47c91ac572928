// The API's shapes, named: each is the generated type of src/gateway/openapi.json (web/gen, made by the build),
// so a field the document does not have cannot be used, and a change to the document breaks the build here.
import type { components, paths } from '../../gen/openapi';

type Schemas = components['schemas'];
export type ApiErrorBody = Schemas['Error']['error'];
export type Me = Schemas['Me'];
export type Health = Schemas['Health'];
export type LoginResult = Schemas['LoginResult'];
export type Session = Schemas['Session'];
export type NewSession = Schemas['NewSession'];
export type PatchSession = Schemas['PatchSession'];
export type Message = Schemas['Message'];
export type Column = Schemas['Column'];
export type DatabaseResult = Schemas['DatabaseResult'];
export type MultiQueryResult = Schemas['MultiQueryResult'];
export type SqlRequest = Schemas['Sql'];
export type SqlResult = Schemas['SqlResult'];
export type PlanResult = Schemas['PlanResult'];
export type HistoryEntry = Schemas['HistoryEntry'];
export type Connection = Schemas['Connection'];
export type ConnectionHealth = Schemas['ConnectionHealth'];
export type Group = Schemas['Group'];
export type CompareRequest = Schemas['Compare'];
export type CompareResult = Schemas['CompareResult'];
export type SchemaDiff = Schemas['SchemaDiff'];
export type Report = Schemas['Report'];
export type NewReport = Schemas['NewReport'];
export type Run = Schemas['Run'];
export type ReportDiff = Schemas['ReportDiff'];
export type Schedule = Schemas['Schedule'];
export type ConnectionSchema = Schemas['ConnectionSchema'];
export type TaggedRow = Schemas['TaggedRow'];
export type Scheduled = Schemas['Scheduled'];
export type Scheduling = Schemas['Scheduling'];
// A page of a message's rows (GET .../messages/{message}/results?format=json): [{database, row}, …].
export type MessageRows =
  paths['/api/chat/sessions/{id}/messages/{message}/results']['get']['responses']['200']['content']['application/json'];
// The query builder (the Builder tab): a spec, the catalog of the chosen databases, the plan a spec compiles to and
// what running it answers (fanout and totals: a multi-query answer; compare: a compare answer; each with its plan).
export type QuerySpec = Schemas['QuerySpec'];
export type FilterNode = Schemas['FilterNode'];
export type FilterCondition = Schemas['FilterCondition'];
export type GroupColumn = Schemas['GroupColumn'];
export type Summary = Schemas['Summary'];
export type SortKey = Schemas['SortKey'];
export type SpecCatalog = Schemas['SpecCatalog'];
export type CatalogTable = Schemas['CatalogTable'];
export type CatalogColumn = Schemas['CatalogColumn'];
export type BuildPlan = Schemas['BuildPlan'];
export type BuildResult = Schemas['BuildResult'];
export type BuildRowsResult = Schemas['BuildRowsResult'];
export type BuildCompareResult = Schemas['BuildCompareResult'];
