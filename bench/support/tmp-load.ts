import { openSqlite } from '../../libs/persistence/src/sqlite/sqlite-database';
import { loadDataset } from './dataset';
const file = process.argv[2];
const db = openSqlite(file);
db.prepare(`INSERT INTO users (id, email, email_lower, name, role, disabled, password_hash, created_at, updated_at) VALUES ('heavyuser000000000000001','h@b','h@b','H','user',0,'x',0,0)`).run();
db.close();
const d = loadDataset(file, { heavyUserId: 'heavyuser000000000000001', threads: 100_000, heavyEvery: 5, otherUsers: 80, turns: 5, branchEvery: 10, longThreads: 10, longTurns: 500 });
console.log(JSON.stringify({ ...d, sampleThreadIds: undefined, longThreadIds: undefined }));
