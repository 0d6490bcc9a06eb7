import { decodeArtifact } from '@streamtrain/model';
import {
  RegistryOperationError,
  listVersions,
  pinModel,
  promoteVersion,
  readAliasChanges,
  readPromotionPin,
  readVersion,
  readVersionArtifact,
  rollbackChampion,
  unpinModel,
} from '@streamtrain/warehouse';
import type {
  AliasChange,
  ChampionChange,
  ModelVersionRecord,
  Pool,
  PromotionPin,
  VersionDetail,
} from '@streamtrain/warehouse';
import { exportArtifact } from '../training/export-artifact';
import type { ExportedModel } from '../training/export-artifact';
import { rebuildVersion } from '../training/rebuild';
import type { RebuildReport } from '../training/rebuild';
import type { RetrainParams } from '../domain/retrain-policy';

/** Who is acting, for the audit trail. */
export interface Actor {
  actor: string;
  reason: string;
}

/**
 * The registry as operators drive it, for one model: the CLI and the HTTP API both call this,
 * so the two can never disagree. Every champion change is audited and announced.
 */
export class ModelOperations {
  constructor(
    private readonly pool: Pool,
    readonly modelName: string,
    private readonly relay: () => void = () => undefined,
  ) {}

  list(page: {
    status?: ModelVersionRecord['status'];
    limit?: number;
    offset?: number;
  }): Promise<{ total: number; versions: ModelVersionRecord[] }> {
    return listVersions(this.pool, this.modelName, page);
  }

  async show(versionId: string): Promise<VersionDetail & { pin: PromotionPin | null }> {
    const detail = await readVersion(this.pool, versionId);
    if (detail === null || detail.version.modelName !== this.modelName) {
      throw new RegistryOperationError(
        `model ${this.modelName} has no version ${versionId}`,
        'not-found',
      );
    }
    return { ...detail, pin: await readPromotionPin(this.pool, this.modelName) };
  }

  async promote(versionId: string, who: Actor): Promise<ChampionChange> {
    const change = await promoteVersion(this.pool, versionId, {
      modelName: this.modelName,
      ...who,
    });
    this.relay();
    return change;
  }

  async rollback(versionId: string | null, who: Actor): Promise<ChampionChange> {
    const change = await rollbackChampion(this.pool, versionId, {
      modelName: this.modelName,
      ...who,
    });
    this.relay();
    return change;
  }

  pin(who: Actor): Promise<PromotionPin> {
    return pinModel(this.pool, { modelName: this.modelName, ...who });
  }

  unpin(who: Actor): Promise<boolean> {
    return unpinModel(this.pool, { modelName: this.modelName, ...who });
  }

  audit(limit = 100): Promise<AliasChange[]> {
    return readAliasChanges(this.pool, this.modelName, limit);
  }

  async export(versionId: string): Promise<ExportedModel> {
    const stored = await readVersionArtifact(this.pool, versionId);
    if (stored === null || stored.record.modelName !== this.modelName) {
      throw new RegistryOperationError(
        `model ${this.modelName} has no version ${versionId}`,
        'not-found',
      );
    }
    if (stored.artifact === null) {
      throw new RegistryOperationError(`${versionId}'s artifact was pruned`, 'conflict');
    }
    return exportArtifact(versionId, decodeArtifact(stored.artifact).artifact);
  }

  rebuild(
    versionId: string,
    backend: string,
    fallbackTraining: Partial<RetrainParams> = {},
  ): Promise<RebuildReport> {
    return rebuildVersion(this.pool, versionId, backend, fallbackTraining);
  }
}
