import { repositoryContract } from './repository.contract';

repositoryContract('sqlite', () => null);

// No MongoDB server can run on the development machines; the GitHub Actions workflow provides one.
const mongodbUri = process.env.MONGODB_URI;
if (mongodbUri) {
  repositoryContract('mongodb', () => mongodbUri);
} else {
  console.warn('repository contract (mongodb): not run, MONGODB_URI is not set (the GitHub Actions workflow runs it)');
}
