import { TestRepo } from '../../test/helpers/git-repo.ts';

/** The benchmark's repositories: the tests' bare repository and working copy, in a folder of the run. */
export class BenchRepo extends TestRepo {
  constructor(dir: string) {
    super(dir);
  }
}
