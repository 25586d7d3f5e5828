import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appIconPath, resourcesDir } from '../../main/app/resources.js';

describe('resourcesDir', () => {
  it('is build/ of the checkout in development and the resources directory when packaged', () => {
    const context = { appPath: '/src/ec2-connect', resourcesPath: '/opt/EC2 Connect/resources' };
    expect(resourcesDir({ ...context, isPackaged: false })).toBe(path.join('/src/ec2-connect', 'build'));
    expect(resourcesDir({ ...context, isPackaged: true })).toBe('/opt/EC2 Connect/resources');
    expect(appIconPath('/r')).toBe(path.join('/r', 'icon.png'));
  });
});
